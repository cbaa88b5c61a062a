import sys

from demix_core.process import prepare_training_process

prepare_training_process()  # before the CLI imports torch: this process trains

from demix_core.cli import main  # noqa: E402

sys.exit(main())
