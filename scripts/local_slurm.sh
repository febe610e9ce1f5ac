#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine, for the tests of `cimtlm sweep --backend slurm` and for
# trying the backend without a cluster (docs/cluster.md). Everything lives in DIR: the munge key and socket, the
# slurm.conf, the controller's state, the logs and the daemons' pids; nothing in /etc or /run is touched.
#
#   scripts/local_slurm.sh start DIR   # start munged, slurmctld and slurmd; then: export SLURM_CONF=DIR/slurm.conf
#   scripts/local_slurm.sh stop DIR    # cancel the cluster's jobs and stop its daemons (only the pids it started)
#
# The node offers the machine's CPUs in two partitions: `debug` (the default, no time limit) and `short` (10 min).
# Debian packages: slurm-wlm (slurmctld, slurmd, client commands) and munge. The daemons need root (slurmd starts
# the jobs as their user). `start` exits 1 with the reason on stderr when a daemon does not come up.
set -euo pipefail

die() { echo "local_slurm: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
dir=$(realpath -m "$2")

# Kill one process we started, by its pid file, and wait until it is gone.
stop_pid() {
    local f=$1 pid
    [[ -f $f ]] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2> /dev/null; then
        kill -TERM "$pid" 2> /dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2> /dev/null || true
    fi
    rm -f "$f"
}

case $cmd in
stop)
    if [[ -f $dir/slurm.conf && -f $dir/slurmctld.bgpid ]]; then
        export SLURM_CONF=$dir/slurm.conf
        # Jobs first, so no job step outlives its node daemon.
        timeout 10 scancel --user="$(id -un)" 2> /dev/null || true
        for _ in $(seq 1 100); do
            [[ -z $(timeout 5 squeue -h -o %i 2> /dev/null || true) ]] && break
            sleep 0.1
        done
    fi
    stop_pid "$dir/slurmd.bgpid"
    stop_pid "$dir/slurmctld.bgpid"
    stop_pid "$dir/munged.bgpid"
    exit 0
    ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

for prog in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$prog" > /dev/null || [[ -x /usr/sbin/$prog ]] || die "'$prog' is not installed (Debian: slurm-wlm, munge)"
done
export PATH=$PATH:/usr/sbin
[[ $(id -u) -eq 0 ]] || die "the Slurm daemons need root (slurmd starts jobs as their user); running as $(id -un)"

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
# munge: a fresh key, a socket in DIR. --force: munged wants every folder above its socket world-executable, which a
# private temp folder is not; the socket itself is only used by this user (root).
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
sock=$dir/munge.sock
(( ${#sock} < 100 )) || die "the path of the munge socket is too long for a Unix socket: $sock"
munged --foreground --force --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --seed-file="$dir/munge/munged.seed" --log-file="$dir/munge/munged.log" > "$dir/munged.out" 2>&1 &
echo $! > "$dir/munged.bgpid"
for _ in $(seq 1 50); do [[ -S $sock ]] && break; sleep 0.1; done
[[ -S $sock ]] || die "munged did not start: $(tail -3 "$dir/munged.out" | tr '\n' ' ')"

# Two free TCP ports on the loopback for the controller and the node daemon.
read -r ctld_port node_port < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
user=$(id -un)
cat > "$dir/slurm.conf" << EOF
# Written by scripts/local_slurm.sh: a single-node cluster in $dir
ClusterName=cimtlm-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$node_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=300
NodeName=cimtlm-node0 NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=cimtlm-node0 Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=cimtlm-node0 MaxTime=10:00 State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -f "$SLURM_CONF" > "$dir/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.bgpid"
slurmd -D -N cimtlm-node0 -f "$SLURM_CONF" > "$dir/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.bgpid"
# Up when the node is idle (it registers with the controller a moment after both daemons start).
for _ in $(seq 1 300); do
    state=$(timeout 5 sinfo -h -n cimtlm-node0 -o %t 2> /dev/null | head -1 || true)
    [[ $state == idle ]] && break
    kill -0 "$(cat "$dir/slurmctld.bgpid")" 2> /dev/null || break
    kill -0 "$(cat "$dir/slurmd.bgpid")" 2> /dev/null || break
    sleep 0.1
done
if [[ ${state:-} != idle ]]; then
    why="slurmctld: $(grep -i -m2 -E 'fatal|error: (This host|Unable|cannot)' "$dir/slurmctld.out" | tr '\n' ' ')"
    why+=" slurmd: $(grep -i -m2 -E 'fatal|error: (Unable|cannot)' "$dir/slurmd.out" | tr '\n' ' ')"
    "$0" stop "$dir"
    die "the cluster did not come up (node state '${state:-none}'). $why"
fi
echo "export SLURM_CONF=$SLURM_CONF"
