"""Category classification of report texts (事件/部件), from a model trained on the shipped corpus."""
