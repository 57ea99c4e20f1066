import subprocess

from conftest import cli_path


def run(*args):
    return subprocess.run([cli_path(), "semisupervised", *args], capture_output=True, text=True)


def test_unknown_method_dataset_and_labels_are_named_before_training():
    bad_method = run("--methods", "direct,reinforce", "--steps", "1")
    assert bad_method.returncode == 2 and 'method must be "direct" or "gsm", got "reinforce"' in bad_method.stderr
    bad_dataset = run("--dataset", "cifar", "--steps", "1")
    assert bad_dataset.returncode == 2 and 'dataset must be "mnist" or "fashion-mnist", got "cifar"' in bad_dataset.stderr
    bad_labels = run("--labels", "50,15", "--steps", "1")
    assert bad_labels.returncode == 2 and "labels must be positive multiples of 10" in bad_labels.stderr


def test_missing_mnist_package_is_named(tmp_path):
    missing = run("--dataset", "mnist", "--mnist-data", str(tmp_path / "nowhere"), "--steps", "1")
    assert missing.returncode == 2 and "load_mnist_digits" in missing.stderr and "nowhere" in missing.stderr
