"""The test suite and the notebooks it executes always run in smoke mode: nothing writes into Data/."""
import os

os.environ["ERA_MNIST_SMOKE"] = "1"
