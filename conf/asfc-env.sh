# shellcheck shell=bash
#
# Environment for bin/asfc-agent, which sources this file (when it exists) before it starts a JVM.
# Every setting is optional: uncomment a line to change the default shown beside it.
#
# A value written here replaces the one from the environment. To let the environment win, write
# e.g. ASFC_LOG_DIR=${ASFC_LOG_DIR:-/var/log/asfc}.
# ASFC_CONF_DIR cannot be set here: it says where this file is (default: $ASFC_HOME/conf).

# Java 17 or later (default: $JAVA_HOME/bin/java if JAVA_HOME is set, else java on the PATH).
# JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64

# Heap size of the agent and of the command line (default: "-Xms16m -Xmx64m").
# ASFC_HEAP_OPTS="-Xms16m -Xmx64m"

# Extra JVM options, split on whitespace (default: none). They come after the built-in
# "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:ReservedCodeCacheSize=32m
# -XX:MaxMetaspaceSize=128m" (a small JVM for a small daemon), so each wins over its built-in
# counterpart; a collector named here replaces the serial one. For example GC logging:
# ASFC_JVM_OPTS="-Xlog:gc*:file=/var/log/asfc/gc.log:time,uptime:filecount=5,filesize=10m"

# Where the read commands keep their class data sharing archive, made on first use (default:
# $ASFC_PID_DIR; empty: none).
# ASFC_CDS_DIR=/var/cache/asfc

# glibc malloc arenas of the JVM (default: 2; glibc's own is 8 per core, tens of MB more RSS).
# The scheduler the agent starts inherits it.
# MALLOC_ARENA_MAX=2

# Extra JVM options of the short-lived commands (metadata, events, ...); the default makes them
# start faster.
# ASFC_CLI_JVM_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

# Where the logs and asfc-agent.out go (default: $ASFC_HOME/logs).
# ASFC_LOG_DIR=/var/log/asfc

# Where asfc-agent.pid and asfc-agent.ready go (default: $ASFC_HOME/run).
# ASFC_PID_DIR=/run/asfc

# Level of the asfc loggers: TRACE, DEBUG, INFO, WARN or ERROR (default: INFO).
# ASFC_LOG_LEVEL=INFO

# Seconds 'asfc-agent stop' waits after SIGTERM before it sends SIGKILL (default: 30).
# ASFC_STOP_TIMEOUT=30

# Seconds 'asfc-agent start' waits for the agent to connect to ZooKeeper (default: 30).
# After that it reports "still starting" and leaves the agent running.
# ASFC_START_TIMEOUT=30
