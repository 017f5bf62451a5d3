"""The benchmark scripts run end to end in smoke mode (their numbers are not checked: they are timings)."""
import runpy
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def script(name):
    return runpy.run_path(str(BENCHMARKS / name), run_name="benchmark")


def test_epoch_speed_prints_the_ratio_per_net(smoke_mode, capsys):
    script("epoch_speed.py")["main"](["--quick", "--batches", "2", "--repeats", "1", "--workers", "0", "--profile"])
    out = capsys.readouterr().out
    assert "usual/ours" in out and "smoke data" in out
    row = next(line for line in out.splitlines() if line.startswith("step 10"))
    assert "7,884" in row and row.endswith("x")
    assert "profile of 20 eager training steps" in out and "aten::convolution_backward" in out


def test_the_torch_check_names_its_arguments_before_it_installs_anything():
    """benchmarks/check_torch.sh is run by hand (it downloads GBs): here only its syntax and its usage line."""
    import subprocess
    check = BENCHMARKS / "check_torch.sh"
    assert subprocess.run(["bash", "-n", check]).returncode == 0
    usage = subprocess.run(["bash", check], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr and "TORCHVISION_VERSION" in usage.stderr
