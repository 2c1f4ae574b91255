"""Requirement pinning and project discovery for remote images."""

from infra.requirements import DEV_TOOLS, freeze, project_distribution, project_packages, public_version

__all__ = ['DEV_TOOLS', 'freeze', 'project_distribution', 'project_packages', 'public_version']
