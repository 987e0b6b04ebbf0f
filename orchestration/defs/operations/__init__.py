"""Operations: backups of the four databases (and, later, housekeeping)."""
