"""era_mnist: a tiny CNN that holds 99.4 % MNIST test accuracy with fewer than 8,000 parameters.

``era_mnist.steps`` defines the series' steps; ``era_mnist.model`` holds their networks;
``era_mnist.utils`` the data, training, evaluation, receptive fields, records and plots that the
notebooks use.
"""
__version__ = "0.1.0"
