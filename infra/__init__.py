"""Requirement pinning for remote images and the lock file, and project discovery."""

from infra.requirements import (
    DEV_TOOLS,
    Closure,
    closure,
    freeze,
    project_distribution,
    project_packages,
    public_version,
)

__all__ = [
    'DEV_TOOLS',
    'Closure',
    'closure',
    'freeze',
    'project_distribution',
    'project_packages',
    'public_version',
]
