"""Data, training, evaluation, receptive fields, records and plots for the step notebooks.

``from era_mnist.utils import ...`` is the one import a notebook needs.
"""
from .augment import augment_rotate, rotate, rotation
from .config import StepConfig, step_config
from .data import DataError, DeviceLoader, MnistData, data_root, load_mnist, prepare_raw
from .experiment import lr_range_test, make_optimizer, make_scheduler, run_config, run_seeds, run_step
from .metrics import confusion_matrix, misclassified, per_class_accuracy, predict
from .plots import (plot_confusion_matrix, plot_history, plot_lr, plot_lr_range, plot_misclassified,
                    plot_pareto, plot_per_class_accuracy, plot_series)
from .receptive_field import format_receptive_field_table, receptive_field_table, summary
from .records import (RecordError, RunRecord, TARGET, epochs_at_target, full_records, is_smoke, load_record,
                      output_dir, output_mode, record_path, save_run)
from .report import REFERENCE, context_label, figure_path, format_result, seed_table
from .train import DeviceError, device_name, evaluate, fit, pick_device, seed_everything, train_epoch
