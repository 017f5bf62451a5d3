"""Data, training, evaluation, receptive fields, the mechanisms' demonstrations and plots: what
any network and any run need, with no step of the series in it (what runs, records and shows a
step is ``era_mnist.steps``, which builds on this). Nothing here imports ``era_mnist.steps``.
"""
from .augment import affine, augmentation, random_affine
from .data import DataError, DeviceLoader, MnistData, data_root, load_mnist, prepare_raw
from .layers import format_receptive_field_table, receptive_field_table, summary
from .mechanisms import (batchnorm_by_hand, batchnorm_check, block_output_std, block_outputs, channel_mixing,
                         dropout_mask_stats, dropout_passes, fold_head, folded_difference, format_block_outputs,
                         format_layer_stats, format_mode_accuracies, format_parameter_rows, format_passes,
                         format_shapes, layer_stats, loss_by_confidence, measured_accuracy, mode_accuracies,
                         parameter_rows, plot_batchnorm, plot_mixing, plot_parameters, plot_receptive_fields,
                         plot_schedule, plot_smoothing, receptive_squares, rotated, rotation_accuracy, seeded,
                         shapes_through, smoothed_target)
from .metrics import confident_mistakes, confusion_matrix, misclassified, most_confused, predict
from .paths import figure_path, output_dir, output_mode
from .plots import (plot_ablation, plot_confusion_matrix, plot_digits, plot_history, plot_lr, plot_lr_range,
                    plot_misclassified, plot_pareto, plot_seed_spread, plot_seeds,
                    plot_series, show_mistakes)
from .results import AVERAGED, LAST, RULE, TARGET, epochs_at_target, run_summary, seed_summary
from .train import DeviceError, device_name, evaluate, fit, pick_device, seed_everything, train_epoch
