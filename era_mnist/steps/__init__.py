"""The series: its table of steps (``table``), and what runs, records and shows a step: training a
step's configuration (``experiment``), its run records (``records``), the Result and the seeds
(``report``), its network's code and changes (``lesson``), and the demonstrations that need its
network (``demos``). It stands on ``era_mnist.model`` and ``era_mnist.utils``, which import nothing
from here.

``from era_mnist.steps import ...`` is a notebook's import for a step; ``era_mnist.utils`` gives the
data, the training loop, evaluation, receptive fields and plots.
"""
from .demos import (Folding, eval_mode_fit, folding, format_eval_mode_fit, fresh_network, onecycle_schedule,
                    trained_network)
from .experiment import (format_range_readings, load_range_test, lr_range_test, make_optimizer, make_scheduler,
                         model_and_loader, range_readings, run_config, run_seeds, run_step)
from .lesson import changes, network_source, show_changes, show_network, show_source
from .records import (RecordError, RunRecord, full_records, kept_weights, load_record, record_path,
                      save_run)
from .report import context_label, format_against, format_result, repeat_line, seed_table
from .table import (STEPS, Step, StepConfig, build, changed_fields, check_widths, config_changes, final_step,
                    model_classes, network, network_name, network_parts, onecycle_momentum, parameters,
                    step_config, step_number, training_changes, used_functions)
