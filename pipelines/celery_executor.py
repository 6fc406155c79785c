"""dagster-celery's executor, with the broker and result backend read from env vars (deploy/README.md)."""

from __future__ import annotations

import dagster as dg
from dagster_celery import celery_executor
from dagster_celery.executor import CELERY_CONFIG

# Broker and result backend when the run config names none (Redis URLs, e.g. redis://redis.internal:6379/0);
# deploy/celery.yaml hands the same variables to the workers.
BROKER_ENV = "DAGSTER_CELERY_BROKER_URL"
BACKEND_ENV = "DAGSTER_CELERY_BACKEND_URL"


def _celery_config_from_env(config: dict) -> dict:
    """dagster-celery's defaults (AMQP on localhost, rpc:// results) replaced by the env vars above."""
    return {**config, "broker": config.get("broker") or {"env": BROKER_ENV},
            "backend": config.get("backend") or {"env": BACKEND_ENV}}


_CELERY_ENV_SCHEMA = {
    **CELERY_CONFIG,
    "broker": dg.Field(dg.Noneable(dg.StringSource), is_required=False, default_value=None,
                       description=f"Celery broker URL; default: the {BROKER_ENV} env var."),
    "backend": dg.Field(dg.Noneable(dg.StringSource), is_required=False, default_value=None,
                        description=f"Celery result backend URL; default: the {BACKEND_ENV} env var."),
}
celery_env_executor = celery_executor.configured(
    _celery_config_from_env, name="celery", config_schema=_CELERY_ENV_SCHEMA,
    description="dagster-celery's executor with broker and backend from env vars (deploy/README.md).",
)
