from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_executable, dbt_project

# The venv's own dbt, so the code location works without the venv on PATH.
dbt_resource = DbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(dbt_project.profiles_dir),
    target="catalog",
    dbt_executable=dbt_executable(),
)
