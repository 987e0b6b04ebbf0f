from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_project

dbt_resource = DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), target="catalog")
