"""The Spark session the audit runs on: whatever master the user gives (`local[*]` by default, or a
cluster URL), quiet logs, no UI. PySpark and a Java runtime are needed only for `--engine spark`."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from harness.core.errors import UsageError


def spark_session(master: str = "local[*]", conf: dict[str, Any] | None = None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs PySpark: pip install 'finetune-harness[spark]' "
                         "(and a Java runtime, e.g. Debian's openjdk-17-jre-headless)") from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise UsageError("--engine spark needs a Java runtime (17 or newer): apt-get install openjdk-17-jre-headless")
    # Local workers run this interpreter (with this package and its numpy); a cluster sets its own.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName("finetune-harness audit")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.shuffle.partitions", str((conf or {}).get("shuffle_partitions", 8)))
               .config("spark.driver.memory", str((conf or {}).get("driver_memory", "2g"))))
    for key, value in ((conf or {}).get("spark") or {}).items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
