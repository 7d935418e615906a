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
# Usage: scripts/stack.sh install | start [service...] | stop [service...] | kill service... | status | env
#                         | logs [service] | reset
#
# State (class paths, data, logs, pids) lives in $JOBLINE_STACK_DIR (default: .stack/ in the checkout, git-ignored);
# downloads are cached in Maven's local repository. Ports: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# MONGO_PORT (27017), REDIS_PORT (6379), S3_PORT (9090). `status` exits 0 only when every service runs.
#
# KAFKA_NODES=3 makes Kafka a cluster of three combined broker and controller nodes, the services kafka-1, kafka-2 and
# kafka-3 (`kafka` names all three), node n listening on KAFKA_PORT + 2(n-1) and KAFKA_CONTROLLER_PORT + 2(n-1):
# 9092/9093, 9094/9095, 9096/9097 by default. Topics get three replicas and min.insync.replicas=2, so one node may
# fail without losing an acknowledged write or refusing one. Every command reads KAFKA_NODES: give it to each.
# `kill` ends services with SIGKILL, a crash, for failover tests.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${JOBLINE_STACK_DIR:-$ROOT/.stack}
HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
MONGO_PORT=${MONGO_PORT:-27017}
REDIS_PORT=${REDIS_PORT:-6379}
S3_PORT=${S3_PORT:-9090}
KAFKA_NODES=${KAFKA_NODES:-1}
START_TIMEOUT_S=${STACK_START_TIMEOUT_S:-90}
STOP_TIMEOUT_S=${STACK_STOP_TIMEOUT_S:-30}

say() { printf '[stack] %s\n' "$*"; }
die() {
  printf '[stack] error: %s\n' "$*" >&2
  exit 1
}

pid_file() { echo "$STACK_DIR/run/$1.pid"; }
log_file() { echo "$STACK_DIR/logs/$1.log"; }

case $KAFKA_NODES in
  1) KAFKA_SERVICES=(kafka) ;;
  3) KAFKA_SERVICES=(kafka-1 kafka-2 kafka-3) ;;
  *) die "KAFKA_NODES must be 1 or 3, not '$KAFKA_NODES'" ;;
esac
SERVICES=("${KAFKA_SERVICES[@]}" mongo redis s3)

# A cluster node's number (kafka-2: 2); its ports are offset from the first node's by two per node.
node_number() { echo "${1#kafka-}"; }
node_port() { echo $(($1 + 2 * ($(node_number "$2") - 1))); }

service_port() {
  case $1 in
    kafka) echo "$KAFKA_PORT" ;;
    kafka-*) node_port "$KAFKA_PORT" "$1" ;;
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

controller_port() {
  case $1 in
    kafka) echo "$KAFKA_CONTROLLER_PORT" ;;
    kafka-*) node_port "$KAFKA_CONTROLLER_PORT" "$1" ;;
  esac
}

is_kafka() { [[ $1 == kafka || $1 == kafka-* ]]; }

# A cluster's node ports interleave; a controller port base that lands on a broker port would clash.
check_cluster_ports() {
  local node ports=()
  for node in "${KAFKA_SERVICES[@]}"; do ports+=("$(service_port "$node")" "$(controller_port "$node")"); done
  (($(printf '%s\n' "${ports[@]}" | sort -u | wc -l) == ${#ports[@]})) ||
    die "KAFKA_PORT ($KAFKA_PORT) and KAFKA_CONTROLLER_PORT ($KAFKA_CONTROLLER_PORT) give the cluster's nodes clashing ports (${ports[*]}); set KAFKA_CONTROLLER_PORT to KAFKA_PORT + 1, or 6 or more away"
}

# Sets SELECTED to the services named (every one when none is), `kafka` standing for all of a cluster's nodes.
select_services() {
  SELECTED=()
  (($# > 0)) || set -- "${SERVICES[@]}"
  local service
  for service in "$@"; do
    if [[ $service == kafka ]]; then
      SELECTED+=("${KAFKA_SERVICES[@]}")
    elif [[ " ${SERVICES[*]} " == *" $service "* ]]; then
      SELECTED+=("$service")
    else
      die "unknown service '$service' (known: $( ((KAFKA_NODES > 1)) && printf 'kafka ')${SERVICES[*]})"
    fi
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

# What starting some of the services needs installed: a Kafka cluster of its own in another $JOBLINE_STACK_DIR
# resolves Kafka's class path only, not the S3 server's virtual environment.
install_for() {
  install_system_packages
  mkdir -p "$STACK_DIR"/{run,logs}
  local service
  for service in "$@"; do
    case $service in
      kafka*) resolve_classpath kafka ;;
      mongo)
        resolve_classpath mongo
        compile_mongo_launcher
        ;;
      s3) install_s3_server ;;
    esac
  done
}

# --- start ----------------------------------------------------------------------------------------------------------

# Fails with a clear message when a port the service needs is taken by something that is not this stack.
check_ports_free() {
  local service=$1 port
  local ports=("$(service_port "$service")")
  is_kafka "$service" && ports+=("$(controller_port "$service")")
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

# Writes a node's server.properties into its folder: write_kafka_config service node-id voters replicas min-insync.
write_kafka_config() {
  local service=$1 node_id=$2 voters=$3 replicas=$4 min_insync=$5 dir="$STACK_DIR/$1"
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(service_port "$service"),CONTROLLER://$HOST:$(controller_port "$service")
advertised.listeners=PLAINTEXT://$HOST:$(service_port "$service")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$replicas
min.insync.replicas=$min_insync
auto.create.topics.enable=false
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_insync
group.initial.rebalance.delay.ms=0
EOF
}

write_kafka_logging() {
  cat >"$STACK_DIR/kafka/log4j.properties" <<'EOF'
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

# Sets KAFKA_JAVA to the java command line (without the main class) a broker and its tools run with; a cluster's
# three nodes get a smaller heap each.
set_kafka_java() {
  local dir="$STACK_DIR/kafka" heap=(-Xms256m -Xmx768m)
  ((KAFKA_NODES == 1)) || heap=(-Xms128m -Xmx384m)
  KAFKA_JAVA=(java "${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$dir/log4j.properties" "-Dkafka.logs.dir=$STACK_DIR/logs" -cp "$(<"$dir/classpath")")
}

start_kafka() {
  local dir="$STACK_DIR/kafka"
  write_kafka_config kafka 1 "1@$HOST:$KAFKA_CONTROLLER_PORT" 1 1
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

# The nodes of a cluster share one id, kept beside the class path, with which each node's storage is formatted the
# first time it starts. Kafka's cluster ids are 16 random bytes in unpadded URL-safe base64, never starting with "-",
# which the format tool would read as an option.
ensure_cluster_id() {
  local file="$STACK_DIR/kafka/cluster-id" id=''
  [[ -s $file ]] && return 0
  until [[ -n $id && $id != -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
  echo "$id" >"$file"
}

# Three replicas of every topic, the internal ones too, of which two must have a write before it is acknowledged: one
# node can be lost, or restarted, without refusing or losing a write.
start_cluster_node() {
  local service=$1 dir="$STACK_DIR/$1" id_file="$STACK_DIR/kafka/cluster-id"
  local voters=() node
  for node in "${KAFKA_SERVICES[@]}"; do voters+=("$(node_number "$node")@$HOST:$(controller_port "$node")"); done
  write_kafka_config "$service" "$(node_number "$service")" "$(IFS=,; echo "${voters[*]}")" 3 2
  set_kafka_java
  if [[ ! -f $dir/data/meta.properties ]]; then
    say "formatting $service's storage (KRaft)"
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$(<"$id_file")" -c "$dir/server.properties" \
      --ignore-formatted >>"$(log_file "$service")" 2>&1 || die "formatting $service's storage failed; see $(log_file "$service")"
  fi
  daemonize "$service" "${KAFKA_JAVA[@]}" kafka.Kafka "$dir/server.properties"
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
    kafka*) port_open "$(service_port "$1")" && grep -q 'Kafka Server started' "$(log_file "$1")" ;;
    mongo) port_open "$MONGO_PORT" ;;
    redis) [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] ;;
    s3) port_open "$S3_PORT" ;;
  esac
}

launch_service() {
  local service=$1
  : >"$(log_file "$service")"
  case $service in
    kafka-*) start_cluster_node "$service" ;;
    *) "start_$service" ;;
  esac
}

await_service() {
  local service=$1 deadline=$2
  until is_ready "$service"; do
    if ! running_pid "$service" >/dev/null; then
      tail -n 30 "$(log_file "$service")" >&2 || true
      die "$service exited while starting; its log is $(log_file "$service")"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$(log_file "$service")" >&2 || true
      stop_services "$service"
      die "$service was not ready after ${START_TIMEOUT_S}s; its log is $(log_file "$service")"
    fi
    sleep 0.2
  done
  say "$service ready on $HOST:$(service_port "$service") (pid $(running_pid "$service"))"
}

# Launches the services together and then waits for each: a cluster's nodes become ready only once a majority of
# them has formed the quorum, and the JVMs start faster side by side than one after another.
start_services() {
  local service pid launching=() launchers=()
  if [[ " $* " == *" kafka"* ]]; then
    write_kafka_logging
    ((KAFKA_NODES == 1)) || ensure_cluster_id
  fi
  for service in "$@"; do
    if pid=$(running_pid "$service"); then
      say "$service already running (pid $pid, $HOST:$(service_port "$service"))"
    else
      launching+=("$service")
    fi
  done
  # Every port is checked before anything starts, so that a taken one leaves nothing half started.
  for service in "${launching[@]}"; do check_ports_free "$service"; done
  for service in "${launching[@]}"; do
    launch_service "$service" &
    launchers+=($!)
  done
  local failed=0
  for pid in "${launchers[@]}"; do wait "$pid" || failed=1; done
  if ((failed)); then
    stop_services "${launching[@]}"
    exit 1
  fi
  local deadline=$((SECONDS + START_TIMEOUT_S))
  for service in "${launching[@]}"; do await_service "$service" "$deadline"; done
}

# --- stop, status ---------------------------------------------------------------------------------------------------

# Sends SIGTERM to the services together and waits for each to exit, killing what is still running after
# STACK_STOP_TIMEOUT_S. A cluster's node is granted its controlled shutdown by the quorum, which is gone once fewer than
# two nodes run: a node left alone would wait for it in vain, so it is killed then. That is safe: every acknowledged
# write is on two nodes, and the killed node's writes are in the page cache, which its restart recovers from.
stop_services() {
  local service pid stopping=() left=()
  for service in "$@"; do
    if pid=$(running_pid "$service"); then
      kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$service")
    else
      rm -f "$(pid_file "$service")"
      say "$service not running"
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT_S)) killed=()
  while ((${#stopping[@]} > 0)); do
    left=()
    for service in "${stopping[@]}"; do
      if pid=$(running_pid "$service"); then
        left+=("$service")
        if [[ " ${killed[*]} " == *" $service "* ]]; then
          continue
        elif ((SECONDS >= deadline)); then
          say "$service did not stop within ${STOP_TIMEOUT_S}s; killing it"
        elif [[ $service == kafka-* ]] && ! quorum_stands; then
          say "$service has no quorum left to grant its controlled shutdown; killing it"
        else
          continue
        fi
        kill -KILL "$pid" 2>/dev/null || true
        killed+=("$service")
      else
        rm -f "$(pid_file "$service")"
        say "$service stopped"
      fi
    done
    stopping=("${left[@]}")
    ((${#stopping[@]} == 0)) || sleep 0.2
  done
}

# Whether a majority of the cluster's nodes runs.
quorum_stands() {
  local node running=0
  for node in "${KAFKA_SERVICES[@]}"; do
    if running_pid "$node" >/dev/null; then running=$((running + 1)); fi
  done
  ((2 * running > ${#KAFKA_SERVICES[@]}))
}

kill_service() {
  local service=$1 pid
  if ! pid=$(running_pid "$service"); then
    say "$service not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$(pid_file "$service")"
  say "$service killed"
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
  local service brokers=()
  for service in "${KAFKA_SERVICES[@]}"; do brokers+=("$HOST:$(service_port "$service")"); done
  echo "KAFKA_BROKERS=$(IFS=,; echo "${brokers[*]}")"
  if ((KAFKA_NODES > 1)); then
    echo "KAFKA_REPLICATION_FACTOR=3"
    echo "KAFKA_MIN_INSYNC_REPLICAS=2"
  fi
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
    select_services "$@"
    ((KAFKA_NODES == 1)) || check_cluster_ports
    if (($# > 0)); then install_for "${SELECTED[@]}"; else install; fi
    start_services "${SELECTED[@]}"
    ;;
  stop)
    with_lock
    select_services "$@"
    mkdir -p "$STACK_DIR/run"
    stop_services "${SELECTED[@]}"
    ;;
  kill)
    with_lock
    (($# > 0)) || die "name the services to kill"
    select_services "$@"
    for service in "${SELECTED[@]}"; do kill_service "$service"; done
    ;;
  status) status ;;
  env) print_env ;;
  logs)
    select_services "${1:-kafka}"
    logs=()
    for service in "${SELECTED[@]}"; do logs+=("$(log_file "$service")"); done
    tail -n 100 -f "${logs[@]}"
    ;;
  reset)
    with_lock
    stop_services "${SERVICES[@]}"
    for service in "${KAFKA_SERVICES[@]}"; do rm -rf "${STACK_DIR:?}/$service/data"; done
    ((KAFKA_NODES == 1)) || rm -f "$STACK_DIR/kafka/cluster-id"
    rm -rf "$STACK_DIR/mongo/data" "$STACK_DIR/redis"
    say "data removed"
    ;;
  help | -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" ;;
  *) die "unknown command '$command' (install, start, stop, kill, status, env, logs, reset)" ;;
esac
