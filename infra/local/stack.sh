#!/usr/bin/env bash
# Tether's local stack: real Kafka, schema registry and ClickHouse servers as
# plain local processes, for machines without Docker.
#
#   bash infra/local/stack.sh install       fetch everything (idempotent, no stdin)
#   bash infra/local/stack.sh up            start what is not already answering
#   bash infra/local/stack.sh status        version, endpoint, pid, health; exit 1 if any is down
#   bash infra/local/stack.sh down [--purge]  stop what `up` started; --purge drops data
#
# All state (downloads, config, data, logs, pid files) lives under one
# directory, ${TETHER_STACK_DIR:-<repo>/.tether/stack}. See infra/local/README.md.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_DIR=${TETHER_STACK_DIR:-$REPO_DIR/.tether/stack}
VENV_DIR=$REPO_DIR/.tether/venv

DIST_DIR=$STACK_DIR/dist
CONF_DIR=$STACK_DIR/conf
DATA_DIR=$STACK_DIR/data
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run

KAFKA_VERSION=3.9.1
KAFKA_PORT=${TETHER_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${TETHER_KAFKA_CONTROLLER_PORT:-19093}
REGISTRY_VERSION=3.3.3          # needs Java 21+
REGISTRY_FALLBACK_VERSION=3.0.9 # runs on Java 17
REGISTRY_PORT=${TETHER_REGISTRY_PORT:-18081}
REGISTRY_MANAGEMENT_PORT=${TETHER_REGISTRY_MANAGEMENT_PORT:-$((REGISTRY_PORT + 1))}
CH_HTTP_PORT=${TETHER_CLICKHOUSE_HTTP_PORT:-18123}
CH_TCP_PORT=${TETHER_CLICKHOUSE_TCP_PORT:-19000}
CHDB_VERSION=${TETHER_CHDB_VERSION:-26.9.0}

READY_TIMEOUT=${TETHER_STACK_READY_TIMEOUT:-120}
STOP_TIMEOUT=${TETHER_STACK_STOP_TIMEOUT:-30}
JVM_HEAP=-Xmx512m

# Pinned so the goals behave the same whatever Maven's bundled default is.
DEP_PLUGIN_VERSION=3.8.1
# Apicurio 3.0.9's parent POM (io.apicurio:apicurio-registry:3.0.9) is missing
# from Maven Central: the 3.x plugin refuses the artifact for it, 2.x only
# warns and copies the archive.
DEP_PLUGIN_COPY=org.apache.maven.plugins:maven-dependency-plugin:2.10

SERVERS=(kafka registry clickhouse)

KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
CH_URL=http://127.0.0.1:$CH_HTTP_PORT

# ---------------------------------------------------------------- helpers ---

say() { printf '%s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Serialise install/up/down so two callers (e.g. parallel test workers) do not
# start the same server twice.
take_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 600 9 || die "another stack.sh holds $STACK_DIR/.lock"
}

# Major version of a java binary ("1.8.0_x" -> 8, "17.0.15" -> 17).
java_major() {
  local v
  v=$("$1" -version 2>&1) || return 1
  v=$(awk -F'"' '/version/ { print $2; exit }' <<<"$v")
  [[ -n $v ]] || return 1
  v=${v#1.}
  printf '%s\n' "${v%%[.+-]*}"
}

# Every java on this machine, the caller's choice (JAVA_HOME, PATH) first.
java_candidates() {
  local c seen=""
  for c in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [[ -n $c && -x $c ]] || continue
    c=$(readlink -f "$c")
    [[ " $seen " == *" $c "* ]] && continue
    seen+=" $c"
    printf '%s\n' "$c"
  done
}

# First java whose major version lies in [min, max].
find_java() {
  local min=$1 max=$2 c m
  while read -r c; do
    m=$(java_major "$c" 2>/dev/null) || continue
    if (( m >= min && m <= max )); then printf '%s\n' "$c"; return 0; fi
  done < <(java_candidates)
  return 1
}

# Resolved once per run (each probe costs a `java -version`). Kafka 3.9 is
# tested on Java 17, so 17 is preferred; Apicurio 3.3.x is built for Java 21,
# and 3.0.9 is the last line that runs on 17. TETHER_REGISTRY_JAVA pins the
# registry's java (and so its version), e.g. to exercise the fallback.
KAFKA_JAVA=""
REGISTRY_JAVA=""
detect_javas() {
  KAFKA_JAVA=$(find_java 17 17 || find_java 11 99 || true)
  REGISTRY_JAVA=${TETHER_REGISTRY_JAVA:-$(find_java 21 99 || find_java 17 99 || true)}
}
kafka_java() { [[ -n $KAFKA_JAVA ]] || die "Kafka needs Java 11+ (17 preferred); none found"; echo "$KAFKA_JAVA"; }
registry_java() { [[ -n $REGISTRY_JAVA ]] || die "Apicurio needs Java 17+; none found"; echo "$REGISTRY_JAVA"; }
registry_version() {
  if [[ -n $REGISTRY_JAVA ]] && (($(java_major "$REGISTRY_JAVA") >= 21)); then
    echo "$REGISTRY_VERSION"
  else
    echo "$REGISTRY_FALLBACK_VERSION"
  fi
}

clickhouse_server_bin() {
  command -v clickhouse-server || { [[ -x /usr/sbin/clickhouse-server ]] && echo /usr/sbin/clickhouse-server; }
}

# Is a TCP port accepting connections?
port_open() { timeout 2 bash -c ">/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_file() { echo "$RUN_DIR/$1.pid"; }

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# Pid of a server this script started, if that process is still alive. The
# command line must mention the state dir, so a recycled pid is never trusted.
running_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cmdline_of "$pid") == *"$STACK_DIR/"* ]] || return 1
  echo "$pid"
}

rss_mb() { ps -o rss= -p "$1" 2>/dev/null | awk '{ printf "%d MB", $1 / 1024 }'; }

# Start a command detached from this shell (own session, no stdin) with its
# output appended to logs/<name>.log. The child writes its own pid before
# exec, so the pid file holds the server's pid, not a wrapper's.
start_detached() {
  local name=$1 workdir=$2; shift 2
  local log=$LOG_DIR/$name.log pidf
  pidf=$(pid_file "$name")
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$workdir"
  rm -f "$pidf"
  printf '\n===== %s stack.sh starting %s =====\n' "$(date -Is)" "$name" >>"$log"
  # fd 9 is the stack lock: a server must not inherit it, or it would hold the
  # lock for as long as it runs.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  (cd "$workdir" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$log" 2>&1 9>&-) &
  for _ in $(seq 50); do [[ -s $pidf ]] && return 0; sleep 0.1; done
  die "$name did not start (no pid file); see $log"
}

# Ask a server to stop: TERM to its process group (setsid made it the leader).
signal_stop() { kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true; }

# Wait for a signalled server to exit; KILL its group after STOP_TIMEOUT.
wait_stopped() {
  local name=$1 pid=$2 deadline=$((SECONDS + STOP_TIMEOUT)) killed=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      ((killed)) && die "$name: pid $pid survived KILL"
      say "$name: still running after ${STOP_TIMEOUT}s, sending KILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      killed=1
      deadline=$((SECONDS + 5))
    fi
    sleep 0.1
  done
  say "$name: stopped (pid $pid)"
}

stop_pid() { signal_stop "$2"; wait_stopped "$1" "$2"; }

# Servers this `up` started, stopped again if another one fails.
STARTED_NOW=()

# A server failed to come up: show the end of its latest log section and stop
# what this `up` started, so a failed `up` leaves nothing half-running.
fail_server() {
  local name=$1 reason=$2 log=$LOG_DIR/$1.log other pid
  printf '\nstack: %s %s. Last lines of %s:\n' "$name" "$reason" "$log" >&2
  awk '/^===== .* stack.sh starting / { n = 0 } { buf[n++] = $0 } END { for (i = (n > 40 ? n - 40 : 0); i < n; i++) print buf[i] }' "$log" >&2 || true
  for other in "$name" "${STARTED_NOW[@]}"; do
    if pid=$(running_pid "$other"); then stop_pid "$other" "$pid" >&2; fi
    rm -f "$(pid_file "$other")"
  done
  exit 1
}

# Poll a readiness probe (a real round trip) until it passes, the process
# dies, or the timeout expires.
wait_ready() {
  local name=$1 probe=$2 t0=$3
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$probe"; do
    running_pid "$name" >/dev/null || fail_server "$name" "exited during startup"
    ((SECONDS < deadline)) || fail_server "$name" "did not answer within ${READY_TIMEOUT}s"
    sleep 0.5
  done
  say "$name: ready in $(since "$t0")s"
}

apt_install() {
  [[ $(id -u) -eq 0 ]] || die "missing $*; installing needs root: run 'sudo apt-get install -y $*' or rerun this as root"
  command -v apt-get >/dev/null || die "missing $* and no apt-get on this machine; install them by hand"
  say "apt-get install $* ..."
  # The lock timeout lets us queue behind another apt run instead of failing.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install --no-install-recommends "$@"
}

need_mvn() { command -v mvn >/dev/null || apt_install maven; }

# Maven, quiet, without the colour codes it prints even when not on a terminal.
mvn_quiet() { mvn -q -B -Dstyle.color=never "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }

# ----------------------------------------------------------------- install ---

kafka_home() { echo "$DIST_DIR/kafka-$KAFKA_VERSION"; }
kafka_installed() { [[ -f $(kafka_home)/.installed ]]; }

install_kafka() {
  local home
  home=$(kafka_home)
  if kafka_installed; then say "kafka $KAFKA_VERSION: installed"; return; fi
  need_mvn
  say "kafka $KAFKA_VERSION: fetching jars from Maven Central ..."
  mkdir -p "$home"
  # The broker jar leaves its log4j backend out of its POM (compile-only in
  # Kafka's build), so reload4j and its slf4j binding are listed explicitly.
  cat >"$home/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tether.local</groupId>
  <artifactId>kafka-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
  <build><pluginManagement><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>$DEP_PLUGIN_VERSION</version></plugin>
  </plugins></pluginManagement></build>
</project>
EOF
  rm -rf "$home/libs"
  (cd "$home" && mvn_quiet dependency:copy-dependencies -DoutputDirectory=libs)
  [[ -f $home/libs/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka jars missing after mvn in $home/libs"
  touch "$home/.installed"
  local jars=("$home"/libs/*.jar)
  say "kafka $KAFKA_VERSION: ${#jars[@]} jars in $home/libs"
}

registry_home() { echo "$DIST_DIR/apicurio-registry-$1"; }
registry_installed() { [[ -f $(registry_home "$1")/.installed ]]; }

# The runnable jar: 3.3+ ships a Quarkus fast-jar at the archive root, 3.0.x a
# legacy *-runner.jar beside lib/.
registry_jar() {
  local home
  home=$(registry_home "$1")
  find "$home/app" -maxdepth 3 \( -name quarkus-run.jar -o -name 'apicurio-registry-app-*-runner.jar' \) | head -n 1
}

install_registry() {
  local v home
  v=$(registry_version)
  home=$(registry_home "$v")
  if registry_installed "$v"; then say "apicurio registry $v: installed"; return; fi
  need_mvn
  [[ $v == "$REGISTRY_VERSION" ]] || say "apicurio registry: $REGISTRY_VERSION needs Java 21+ and none was found; using $v (runs on Java 17)"
  say "apicurio registry $v: fetching from Maven Central ..."
  rm -rf "$home"
  mkdir -p "$home/download" "$home/app"
  (cd "$home" && mvn_quiet "$DEP_PLUGIN_COPY:copy" \
    -Dartifact="io.apicurio:apicurio-registry-app:$v:tar.gz:all" -DoutputDirectory="$home/download")
  tar -xzf "$home"/download/*.tar.gz -C "$home/app"
  rm -rf "$home/download" # Maven's local repository keeps a copy
  [[ -n $(registry_jar "$v") ]] || die "no runnable jar in $home/app after unpacking"
  touch "$home/.installed"
  say "apicurio registry $v: $(registry_jar "$v")"
}

clickhouse_installed() { clickhouse_server_bin >/dev/null && command -v clickhouse-client >/dev/null; }

install_clickhouse() {
  if clickhouse_installed; then say "clickhouse: $(clickhouse_server_bin) installed"; return; fi
  # Debian's package is the only ClickHouse server these machines can install
  # (18.16); it starts nothing by itself on a machine without an init system.
  apt_install clickhouse-server clickhouse-client
}

chdb_installed() { [[ -f $VENV_DIR/.chdb-core-$CHDB_VERSION ]]; }

install_chdb() {
  if chdb_installed; then say "chdb-core $CHDB_VERSION: installed in $VENV_DIR"; return; fi
  local py
  py=${TETHER_PYTHON:-$(command -v python3.11 || command -v python3 || true)}
  [[ -n $py ]] || die "python3 not found (needed for the chdb venv)"
  say "chdb-core $CHDB_VERSION: creating $VENV_DIR and installing from PyPI ..."
  [[ -x $VENV_DIR/bin/python ]] || "$py" -m venv "$VENV_DIR"
  "$VENV_DIR/bin/python" -m pip install -q --disable-pip-version-check "chdb-core==$CHDB_VERSION"
  "$VENV_DIR/bin/python" -c 'import chdb; print("chdb engine", chdb.query("SELECT version()", "TSV").data().strip())'
  rm -f "$VENV_DIR"/.chdb-core-*
  touch "$VENV_DIR/.chdb-core-$CHDB_VERSION"
}

all_installed() {
  kafka_installed && registry_installed "$(registry_version)" && clickhouse_installed && chdb_installed
}

cmd_install() {
  install_kafka
  install_registry
  install_clickhouse
  install_chdb
}

# ------------------------------------------------------------------- kafka ---

kafka_write_config() {
  local conf=$CONF_DIR/kafka
  mkdir -p "$conf" "$DATA_DIR/kafka"
  # Static voters: a single combined node needs no --standalone bootstrap.
  cat >"$conf/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR/kafka
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Fewer internal partitions than the default 50: the first consumer group and
# the first transaction on a fresh node get their coordinator sooner.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Tests join groups constantly; the default 3 s delay would slow every one.
group.initial.rebalance.delay.ms=0
# Topics are created on purpose by the code that owns them.
auto.create.topics.enable=false
log.retention.hours=24
log.retention.bytes=268435456
log.segment.bytes=67108864
log.retention.check.interval.ms=60000
# The cleaner's dedupe buffer is allocated up front; 128 MB would be a quarter
# of the heap for a dev node.
log.cleaner.dedupe.buffer.size=16777216
EOF
  cat >"$conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
  cat >"$conf/tools-log4j.properties" <<'EOF'
log4j.rootLogger=ERROR, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n
EOF
  # Short client timeouts: a probe must fail fast, the poll loop retries.
  cat >"$conf/probe.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=8000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=2000
EOF
}

# Run a Kafka CLI class from the downloaded jars, killed after <limit> seconds.
kafka_tool() {
  local limit=$1 java
  shift
  java=$(kafka_java)
  timeout "$limit" "$java" -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j.configuration="file:$CONF_DIR/kafka/tools-log4j.properties" \
    -cp "$(kafka_home)/libs/*" "$@"
}

# Readiness: a metadata round trip through the admin client (it must list the
# broker's own id), not just an open port.
kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  [[ -f $CONF_DIR/kafka/probe.properties ]] || kafka_write_config
  local out
  out=$(kafka_tool 30 kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$KAFKA_BROKERS" \
    --command-config "$CONF_DIR/kafka/probe.properties" 2>/dev/null) || return 1
  [[ $out == *"(id: 1 rack"* ]]
}

# Kafka's cluster id is a random UUID in unpadded base64url that must not
# start with '-' (it would read as a CLI flag); made here to save a JVM start.
kafka_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    [[ $id == -* ]] || { echo "$id"; return; }
  done
}

kafka_start() {
  local java home
  java=$(kafka_java)
  home=$(kafka_home)
  kafka_write_config
  if [[ ! -f $DATA_DIR/kafka/meta.properties ]]; then
    mkdir -p "$LOG_DIR"
    kafka_tool 120 kafka.tools.StorageTool format -t "$(kafka_cluster_id)" \
      -c "$CONF_DIR/kafka/server.properties" -g >>"$LOG_DIR/kafka.log" 2>&1 ||
      fail_server kafka "storage format failed"
  fi
  start_detached kafka "$DATA_DIR/kafka" "$java" $JVM_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$CONF_DIR/kafka/log4j.properties" \
    -cp "$home/libs/*" kafka.Kafka "$CONF_DIR/kafka/server.properties"
  say "kafka: started $KAFKA_VERSION on Java $(java_major "$java") (pid $(<"$(pid_file kafka)"))"
}

kafka_describe() { echo "Kafka $KAFKA_VERSION (KRaft, one combined node)"; }

# ---------------------------------------------------------------- registry ---

registry_info() { curl -fsS --max-time 5 "http://127.0.0.1:$REGISTRY_PORT/apis/registry/v3/system/info" 2>/dev/null; }

# Readiness: the Confluent-compatible API lists subjects (a JSON array).
registry_ready() {
  local body
  body=$(curl -fsS --max-time 5 "$REGISTRY_URL/subjects" 2>/dev/null) || return 1
  [[ $body == \[* ]]
}

registry_start() {
  local v java jar
  v=$(registry_version)
  java=$(registry_java)
  jar=$(registry_jar "$v")
  [[ -n $jar ]] || die "apicurio registry $v is not installed; run: stack.sh install"
  mkdir -p "$DATA_DIR/registry"
  # Schemas are kept in an H2 file under the state dir (the default is an
  # in-memory database): Kafka's data survives a restart, so the schema ids
  # its records carry must survive too. 3.3.x also opens a Quarkus management
  # interface (health, metrics), by default on 0.0.0.0:9000, ClickHouse's usual
  # port: keep it on loopback, next to the API port.
  start_detached registry "$DATA_DIR/registry" "$java" $JVM_HEAP -XX:+ExitOnOutOfMemoryError \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dapicurio.datasource.url="jdbc:h2:file:$DATA_DIR/registry/registry" \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 \
    -jar "$jar"
  local note=""
  [[ $v == "$REGISTRY_VERSION" ]] || note=" (fallback: $REGISTRY_VERSION needs Java 21+)"
  say "registry: started Apicurio $v on Java $(java_major "$java")$note (pid $(<"$(pid_file registry)"))"
}

registry_describe() {
  local v="?" pid java fallback=""
  v=$(registry_info | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p') || true
  if pid=$(running_pid registry); then
    java=$(readlink -f "/proc/$pid/exe")
    [[ ${v:-?} == "$REGISTRY_FALLBACK_VERSION" ]] && fallback="; fallback, $REGISTRY_VERSION needs Java 21+"
    echo "Apicurio Registry ${v:-?} on Java $(java_major "$java") ($java$fallback)"
  else
    echo "Apicurio Registry ${v:-?}"
  fi
}

# -------------------------------------------------------------- clickhouse ---

clickhouse_query() {
  curl -fsS --max-time 5 --data-binary "$1" "$CH_URL/" 2>/dev/null
}

# Readiness: the server answers a query over HTTP.
clickhouse_ready() { [[ $(clickhouse_query 'SELECT version()') =~ ^[0-9]+\. ]]; }

clickhouse_write_config() {
  local conf=$CONF_DIR/clickhouse data=$DATA_DIR/clickhouse
  mkdir -p "$conf" "$data"/{db,tmp,user_files,format_schemas} "$LOG_DIR"
  # 18.16 only understands the <yandex> root (current releases use <clickhouse>).
  cat >"$conf/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$LOG_DIR/clickhouse.log</log>
        <errorlog>$LOG_DIR/clickhouse.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <path>$data/db/</path>
    <tmp_path>$data/tmp/</tmp_path>
    <user_files_path>$data/user_files/</user_files_path>
    <format_schema_path>$data/format_schemas/</format_schema_path>
    <users_config>$conf/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>268435456</mark_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
EOF
  cat >"$conf/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

clickhouse_start() {
  local bin
  bin=$(clickhouse_server_bin) || die "clickhouse-server is not installed; run: stack.sh install"
  clickhouse_write_config
  start_detached clickhouse "$DATA_DIR/clickhouse" "$bin" --config-file="$CONF_DIR/clickhouse/config.xml"
  say "clickhouse: started (pid $(<"$(pid_file clickhouse)"))"
}

clickhouse_describe() {
  echo "ClickHouse $(clickhouse_query 'SELECT version()' || echo '?') (tcp 127.0.0.1:$CH_TCP_PORT)"
}

# ------------------------------------------------------------ per server ---

endpoint() {
  case $1 in
    kafka) echo "$KAFKA_BROKERS" ;;
    registry) echo "$REGISTRY_URL" ;;
    clickhouse) echo "$CH_URL" ;;
  esac
}

ports_of() {
  case $1 in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    registry) echo "$REGISTRY_PORT $REGISTRY_MANAGEMENT_PORT" ;;
    clickhouse) echo "$CH_HTTP_PORT $CH_TCP_PORT" ;;
  esac
}

# ---------------------------------------------------------------- commands ---

write_env() {
  cat >"$STACK_DIR/env" <<EOF
TETHER_KAFKA_BROKERS=$KAFKA_BROKERS
TETHER_SCHEMA_REGISTRY_URL=$REGISTRY_URL
TETHER_CLICKHOUSE_URL=$CH_URL
EOF
}

cmd_up() {
  local t0 name pid port to_start=() to_wait=()
  t0=$(now)
  all_installed || cmd_install
  mkdir -p "$CONF_DIR" "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"

  # Decide for every server before starting any, so a port clash fails the
  # whole `up` before it has left anything running.
  for name in "${SERVERS[@]}"; do
    if "${name}_ready"; then
      if pid=$(running_pid "$name"); then
        say "$name: already up at $(endpoint "$name") (pid $pid), reusing it"
      else
        say "$name: something already answers at $(endpoint "$name") without a pid file here; reusing it"
      fi
    elif pid=$(running_pid "$name"); then
      # Ours but not answering: still booting or hung; it gets the same timeout.
      say "$name: pid $pid is running but not answering yet; waiting for it"
      to_wait+=("$name")
    else
      for port in $(ports_of "$name"); do
        port_open "$port" && die "$name: port $port is taken by another process; set the TETHER_*_PORT variables"
      done
      to_start+=("$name")
    fi
  done

  # Start everything first and wait afterwards: the JVMs boot in parallel.
  local -A started_at=()
  for name in "${to_wait[@]}"; do started_at[$name]=$(now); done
  for name in "${to_start[@]}"; do
    started_at[$name]=$(now)
    STARTED_NOW+=("$name")
    "${name}_start"
  done
  for name in "${to_wait[@]}" "${to_start[@]}"; do
    wait_ready "$name" "${name}_ready" "${started_at[$name]}"
  done

  write_env
  say ""
  say "stack up in $(since "$t0")s (${#to_start[@]} started, $((${#SERVERS[@]} - ${#to_start[@]})) reused). Environment ($STACK_DIR/env):"
  cat "$STACK_DIR/env"
}

cmd_status() {
  local name pid all_up=0 health
  printf '%-11s %-5s %-8s %-9s %-46s %s\n' SERVER STATE PID RSS ENDPOINT VERSION
  for name in "${SERVERS[@]}"; do
    pid=$(running_pid "$name") || pid="-"
    if "${name}_ready"; then health=up; else health=down; all_up=1; fi
    local rss="-" version="-"
    [[ $pid == - ]] || rss=$(rss_mb "$pid")
    [[ $health == down ]] || version=$("${name}_describe")
    [[ $health == up && $pid == - ]] && version+=" [no pid file]"
    printf '%-11s %-5s %-8s %-9s %-46s %s\n' "$name" "$health" "$pid" "$rss" "$(endpoint "$name")" "$version"
  done
  say "state dir: $STACK_DIR"
  return $all_up
}

# Processes running a server binary from this state dir whose pid file was
# lost (e.g. removed by hand). They are ours too, so `down` stops them.
stray_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case ${exe##*/} in java | clickhouse | clickhouse-server) ;; *) continue ;; esac
    [[ $(cmdline_of "${p#/proc/}") == *"$STACK_DIR/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

cmd_down() {
  local purge=0 name pid
  case ${1:-} in
    "") ;;
    --purge) purge=1 ;;
    *) usage ;;
  esac
  # Signal every server first, then wait: they shut down in parallel (Kafka
  # and ClickHouse each take several seconds with clients attached).
  local -A pids=()
  for name in "${SERVERS[@]}"; do
    if pid=$(running_pid "$name"); then
      pids[$name]=$pid
      signal_stop "$pid"
    else
      say "$name: not running"
    fi
  done
  for name in "${SERVERS[@]}"; do
    [[ -z ${pids[$name]:-} ]] || wait_stopped "$name" "${pids[$name]}"
    rm -f "$(pid_file "$name")"
  done
  local strays
  strays=$(stray_pids)
  for pid in $strays; do signal_stop "$pid"; done
  for pid in $strays; do wait_stopped "stray process" "$pid"; done
  if ((purge)); then
    rm -rf "$DATA_DIR"
    say "purged $DATA_DIR"
  fi
}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  detect_javas
  case $cmd in
    install) take_lock; cmd_install ;;
    up) take_lock; cmd_up ;;
    down) take_lock; cmd_down "$@" ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
