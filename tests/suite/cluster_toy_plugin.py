"""The plug-in module the cluster tests pass with --plugin: registers the toy wall-clock task."""

from cluster_toy_task import ToyLiveTask

from tasks import TASKS

TASKS.add("toy-live", ToyLiveTask)
