"""The platform every stage stands on: the embedded cluster, settings, connections, migrations, roles and grants."""
