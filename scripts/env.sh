# Sourced by the scripts: the environment every run of the project wants.
export PIPENV_VENV_IN_PROJECT=1 PIPENV_NOSPIN=1 PIPENV_YES=1 PIPENV_VERBOSITY=-1
# jsii warns on every run that Node 20 is past end of life; the machines run Node 20.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CHECKPOINT_DISABLE=1
