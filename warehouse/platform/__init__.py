"""The platform: the embedded cluster, its server settings, connections, backups."""
