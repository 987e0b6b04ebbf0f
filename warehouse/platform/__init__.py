"""The platform: cluster, settings, databases, migrations, access and housekeeping."""
