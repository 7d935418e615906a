#!/usr/bin/env bash
# The local stack jobline runs on without Docker, on loopback:
#   kafka  Apache Kafka 3.9.2 from its Maven Central jars, KRaft combined broker and controller (stack/kafka/pom.xml)
#   mongo  mongo-java-server 1.47.0 with its file-backed H2 backend, from Maven Central (stack/mongo/)
#   redis  redis-server from Debian, append-only file on
#   s3     moto 5.2.5's S3 server from PyPI, in a virtual environment (stack/s3/requirements.txt): an S3-compatible
#          server for the S3 blob store's tests; it keeps objects in memory, so a restart empties it
# `install` also resolves EPUBCheck 5.3.0 (stack/epubcheck/pom.xml), which the book export tests run, and installs
# schemathesis 4.32.5 from PyPI into a virtual environment (stack/schemathesis/), which fuzzes the HTTP API; no service.
#
# Usage: scripts/stack.sh install | start [service...] | stop [service...] | status | env | logs [service] | reset
#
# State (class paths, data, logs, pids) lives in $JOBLINE_STACK_DIR (default: .stack/ in the checkout, git-ignored);
# downloads are cached in Maven's local repository. Ports: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# MONGO_PORT (27017), REDIS_PORT (6379), S3_PORT (9090). `status` exits 0 only when all four services run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${JOBLINE_STACK_DIR:-$ROOT/.stack}
HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
MONGO_PORT=${MONGO_PORT:-27017}
REDIS_PORT=${REDIS_PORT:-6379}
S3_PORT=${S3_PORT:-9090}
START_TIMEOUT_S=${STACK_START_TIMEOUT_S:-90}
STOP_TIMEOUT_S=${STACK_STOP_TIMEOUT_S:-30}
SERVICES=(kafka mongo redis s3)

say() { printf '[stack] %s\n' "$*"; }
die() {
  printf '[stack] error: %s\n' "$*" >&2
  exit 1
}

pid_file() { echo "$STACK_DIR/run/$1.pid"; }
log_file() { echo "$STACK_DIR/logs/$1.log"; }

service_port() {
  case $1 in
    kafka) echo "$KAFKA_PORT" ;;
    mongo) echo "$MONGO_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}

running_pid() {
  local file
  file=$(pid_file "$1")
  [[ -f $file ]] || return 1
  local pid
  pid=$(<"$file")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

check_services() {
  local service
  for service in "$@"; do
    [[ " ${SERVICES[*]} " == *" $service "* ]] || die "unknown service '$service' (known: ${SERVICES[*]})"
  done
}

# --- installation ---------------------------------------------------------------------------------------------------

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

apt_install() {
  say "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    die "could not install $* (run as root, or install them yourself: apt-get install $*)"
}

install_system_packages() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3 python3-venv)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# Resolves a stack project's runtime class path into $STACK_DIR/<name>/classpath, once per version of its pom.
resolve_classpath() {
  local name=$1 pom="$ROOT/stack/$1/pom.xml" dir="$STACK_DIR/$1"
  local stamp
  stamp=$(sha256sum "$pom" | cut -c1-16)
  if [[ -f $dir/classpath && $(cat "$dir/classpath.stamp" 2>/dev/null) == "$stamp" ]] && classpath_complete "$dir/classpath"; then
    return 0
  fi
  say "resolving $name from Maven Central (cached in the local Maven repository)"
  mkdir -p "$dir"
  mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" >"$dir/mvn.log" 2>&1 ||
    die "Maven could not resolve $name; see $dir/mvn.log"
  echo "$stamp" >"$dir/classpath.stamp"
}

classpath_complete() {
  local jar
  IFS=: read -ra jars <"$1"
  for jar in "${jars[@]}"; do [[ -f $jar ]] || return 1; done
}

# Compiles the mongo launcher and its backend (every .java file under stack/mongo/src/main/java), once per version of
# the sources and the class path.
compile_mongo_launcher() {
  local dir="$STACK_DIR/mongo" sources_dir="$ROOT/stack/mongo/src/main/java"
  local sources stamp
  mapfile -t sources < <(find "$sources_dir" -name '*.java' | LC_ALL=C sort)
  ((${#sources[@]} > 0)) || die "no Java sources under $sources_dir"
  stamp=$({ printf '%s\n' "${sources[@]}"; cat "${sources[@]}" "$dir/classpath"; } | sha256sum | cut -c1-16)
  if [[ -d $dir/classes && $(cat "$dir/classes.stamp" 2>/dev/null) == "$stamp" ]]; then
    return 0
  fi
  rm -rf "$dir/classes" "$dir/classes.stamp"
  mkdir -p "$dir/classes"
  javac -d "$dir/classes" -cp "$(<"$dir/classpath")" "${sources[@]}" || die "could not compile the mongo launcher"
  echo "$stamp" >"$dir/classes.stamp"
}

# Installs the S3 server into its own virtual environment, once per version of its requirements.
install_s3_server() {
  local requirements="$ROOT/stack/s3/requirements.txt" dir="$STACK_DIR/s3"
  local stamp
  stamp=$(sha256sum "$requirements" | cut -c1-16)
  if [[ -x $dir/venv/bin/moto_server && $(cat "$dir/requirements.stamp" 2>/dev/null) == "$stamp" ]]; then
    return 0
  fi
  say "installing the S3 server (moto) from PyPI"
  rm -rf "$dir/venv"
  mkdir -p "$dir"
  { python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"; } \
    >"$dir/pip.log" 2>&1 || die "could not install the S3 server; see $dir/pip.log"
  echo "$stamp" >"$dir/requirements.stamp"
}

# Installs schemathesis, which fuzzes the HTTP API in the tests, into its own virtual environment, once per version of
# its requirements.
install_schemathesis() {
  local requirements="$ROOT/stack/schemathesis/requirements.txt" dir="$STACK_DIR/schemathesis"
  local stamp
  stamp=$(sha256sum "$requirements" | cut -c1-16)
  if [[ -x $dir/venv/bin/schemathesis && $(cat "$dir/requirements.stamp" 2>/dev/null) == "$stamp" ]]; then
    return 0
  fi
  say "installing schemathesis from PyPI"
  rm -rf "$dir/venv"
  mkdir -p "$dir"
  { python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"; } \
    >"$dir/pip.log" 2>&1 || die "could not install schemathesis; see $dir/pip.log"
  echo "$stamp" >"$dir/requirements.stamp"
}

install() {
  install_system_packages
  # Not a service: the browser the dashboard's end-to-end tests drive through playwright-core.
  command -v chromium >/dev/null || apt_install chromium
  mkdir -p "$STACK_DIR"/{run,logs}
  resolve_classpath kafka
  resolve_classpath mongo
  resolve_classpath epubcheck
  compile_mongo_launcher
  install_s3_server
  install_schemathesis
}

# --- start ----------------------------------------------------------------------------------------------------------

# Fails with a clear message when a port the service needs is taken by something that is not this stack.
check_ports_free() {
  local service=$1 port
  local ports=("$(service_port "$service")")
  [[ $service == kafka ]] && ports+=("$KAFKA_CONTROLLER_PORT")
  for port in "${ports[@]}"; do
    if port_open "$port"; then
      local owner
      owner=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(("[^"]*"' | head -1 | cut -d'"' -f2 || true)
      die "port $port on $HOST, needed by $service, is already in use${owner:+ by '$owner'}; stop that process or choose another port (KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT, REDIS_PORT, S3_PORT)"
    fi
  done
}

# Starts a command as a daemon in its own session, its output going to the service's log only, so that whoever runs
# this script is not kept waiting on an inherited pipe.
daemonize() {
  local service=$1
  shift
  setsid "$@" </dev/null >>"$(log_file "$service")" 2>&1 9>&- &
  echo $! >"$(pid_file "$service")"
}

write_kafka_config() {
  local dir="$STACK_DIR/kafka"
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
EOF
}

# Sets KAFKA_JAVA to the java command line (without the main class) the broker and its tools run with.
set_kafka_java() {
  local dir="$STACK_DIR/kafka"
  KAFKA_JAVA=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$dir/log4j.properties" "-Dkafka.logs.dir=$STACK_DIR/logs" -cp "$(<"$dir/classpath")")
}

start_kafka() {
  local dir="$STACK_DIR/kafka"
  write_kafka_config
  set_kafka_java
  if [[ ! -f $dir/data/meta.properties ]]; then
    say "formatting Kafka's storage (KRaft)"
    local cluster_id
    cluster_id=$("${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$(log_file kafka)" | tail -1)
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" --ignore-formatted \
      >>"$(log_file kafka)" 2>&1 || die "formatting Kafka's storage failed; see $(log_file kafka)"
  fi
  daemonize kafka "${KAFKA_JAVA[@]}" kafka.Kafka "$dir/server.properties"
}

# The data file's name says its format: jobline-v2.mv holds documents and index keys in the launcher's own encoding
# (stack/mongo, CompactH2Backend), which it could not read from the stock backend's Java-serialized jobline.mv. So data
# from before is simply ignored, never opened: the old file stays in the data folder (`reset` removes it) and the
# stack starts with empty databases.
# mongo-java-server materialises a query's whole result before it sorts and pages it: a heap of 2 GiB lets a
# million-record export through.
start_mongo() {
  local dir="$STACK_DIR/mongo"
  daemonize mongo java -Xms64m -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$dir/classes:$(<"$dir/classpath")" dev.jobline.stack.MongoServerMain "$HOST" "$MONGO_PORT" "$dir/data/jobline-v2.mv"
}

start_redis() {
  local dir="$STACK_DIR/redis"
  mkdir -p "$dir"
  daemonize redis redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$dir" --appendonly yes \
    --appendfsync everysec --daemonize no --save '' --protected-mode yes
}

start_s3() {
  daemonize s3 "$STACK_DIR/s3/venv/bin/moto_server" -H "$HOST" -p "$S3_PORT"
}

# Ready means: Kafka has logged that it started, the others answer on their ports.
is_ready() {
  case $1 in
    kafka) port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$(log_file kafka)" ;;
    mongo) port_open "$MONGO_PORT" ;;
    redis) [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] ;;
    s3) port_open "$S3_PORT" ;;
  esac
}

start_service() {
  local service=$1 pid
  if pid=$(running_pid "$service"); then
    say "$service already running (pid $pid, $HOST:$(service_port "$service"))"
    return 0
  fi
  check_ports_free "$service"
  : >"$(log_file "$service")"
  "start_$service"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until is_ready "$service"; do
    if ! running_pid "$service" >/dev/null; then
      tail -n 30 "$(log_file "$service")" >&2 || true
      die "$service exited while starting; its log is $(log_file "$service")"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$(log_file "$service")" >&2 || true
      stop_service "$service"
      die "$service was not ready after ${START_TIMEOUT_S}s; its log is $(log_file "$service")"
    fi
    sleep 0.2
  done
  say "$service ready on $HOST:$(service_port "$service") (pid $(running_pid "$service"))"
}

# --- stop, status ---------------------------------------------------------------------------------------------------

stop_service() {
  local service=$1 pid
  if ! pid=$(running_pid "$service"); then
    rm -f "$(pid_file "$service")"
    say "$service not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "$service did not stop within ${STOP_TIMEOUT_S}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$service")"
  say "$service stopped"
}

status() {
  local service pid all=0
  for service in "${SERVICES[@]}"; do
    if pid=$(running_pid "$service"); then
      say "$service running (pid $pid, $HOST:$(service_port "$service"))"
    else
      say "$service stopped"
      all=1
    fi
  done
  return $all
}

print_env() {
  echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT"
  echo "MONGODB_URI=mongodb://$HOST:$MONGO_PORT"
  echo "REDIS_URL=redis://$HOST:$REDIS_PORT"
  echo "S3_ENDPOINT=http://$HOST:$S3_PORT"
}

# --- commands -------------------------------------------------------------------------------------------------------

with_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 120 9 || die "another scripts/stack.sh is busy with $STACK_DIR"
}

command=${1:-help}
shift || true
case $command in
  install)
    with_lock
    install
    say "installed (state in $STACK_DIR)"
    ;;
  start)
    with_lock
    services=("${@:-${SERVICES[@]}}")
    check_services "${services[@]}"
    install
    for service in "${services[@]}"; do start_service "$service"; done
    ;;
  stop)
    with_lock
    services=("${@:-${SERVICES[@]}}")
    check_services "${services[@]}"
    mkdir -p "$STACK_DIR/run"
    for service in "${services[@]}"; do stop_service "$service"; done
    ;;
  status) status ;;
  env) print_env ;;
  logs)
    service=${1:-kafka}
    check_services "$service"
    tail -n 100 -f "$(log_file "$service")"
    ;;
  reset)
    with_lock
    for service in "${SERVICES[@]}"; do stop_service "$service"; done
    rm -rf "$STACK_DIR/kafka/data" "$STACK_DIR/mongo/data" "$STACK_DIR/redis"
    say "data removed"
    ;;
  help | -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$command' (install, start, stop, status, env, logs, reset)" ;;
esac
