"""The workflow engine: one transition function for every workflow declared as data."""
