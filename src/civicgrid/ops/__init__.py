"""Operations: health, metrics, request ids and structured logs, backups."""
