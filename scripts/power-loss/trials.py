#!/usr/bin/env python3
"""Power-loss and kill trials of bgan-db's writing commands, through lossyfs.

Each kind of work is a fixed sequence of bgan-db commands on a store. It is first run to the
end on a plain folder, and the store's exact contents (keys, codes, payloads, bound model,
tables) recorded after every command: the states a store may be found in. Then, per trial:

1. the starting store is put behind lossyfs (scripts/power-loss/lossyfs.c) and the sequence runs
   on it; a command counts as acknowledged once its process exited 0;
2. after a random delay the sequence is killed (SIGKILL) and the file system unmounted, which is
   the cut: pages never fsynced are dropped (mode `power-cut`), half of them kept at random
   (`partial`, as when a kernel had written some back), or all kept (`kill`: the process dies
   but the machine does not);
3. on what the disk holds, `bgan-db verify` must pass and the store must be in the state of the
   last acknowledged command or, when a command was in flight, in a state that command may
   leave (for commands that commit in batches, a state between the two);
4. the sequence is run again from the first unacknowledged command and must reach the final
   state exactly.

`control` runs the ingest sequence with `--sync none` under power cuts: with nothing fsynced an
acknowledged ingest cannot survive, and the trial must notice (the negative control).

    trials.py --bgan-db PATH --lossyfs PATH [--trials N] [KIND ...]

Prints one line per kind and exits 1 when a check failed (or the control caught nothing).
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
KEY = "t10k-images-idx3-ubyte.gz#%d"
MODES = ("power-cut", "partial", "kill")
KEEP = {"power-cut": "0", "partial": "0.5", "kill": "1"}


class Kind:
    """A sequence of commands on the store at `S` (a placeholder for its path)."""

    def __init__(self, name, batched=False, sync=None, redone=False):
        self.name = name
        self.redone = redone          # a command in flight may leave a store only running it again completes
        self.window = 0               # kills fall uniformly in [0, window) seconds; set by prepare
        self.batched = batched        # a command commits in several transactions
        self.sync = sync              # --sync for the commands that take it
        self.commands = []            # argv lists with "S" for the store's path


def kinds(work):
    """The kinds of work and how to make their starting stores."""
    result = {}

    create = Kind("create", redone=True)
    create.commands = [["create", "S", "--bits", "64"], ["put", "S", "first", "--code", "00000000000000ff", "--payload", "1"]]
    create.setup = []
    result["create"] = create

    ingest = Kind("ingest", batched=True)
    ingest.commands = [["ingest", "S", DATA, "--limit", str(400 * i), "--batch", "100"] for i in range(1, 7)]
    ingest.setup = [["create", "S", "--bits", "64"]]
    result["ingest"] = ingest

    control = Kind("control", batched=True, sync="none")
    control.commands = ingest.commands
    control.setup = ingest.setup
    result["control"] = control

    delete = Kind("delete")
    delete.commands = [["delete", "S"] + [KEY % k for k in range(100 * i, 100 * i + 100)] for i in range(10)]
    delete.setup = [["create", "S", "--bits", "64"], ["ingest", "S", DATA, "--limit", "2000"]]
    result["delete"] = delete

    put = Kind("put")
    rng = random.Random(7)
    put.commands = []
    for i in range(30):
        key = KEY % (i * 37) if i < 10 else "new-%d" % i   # ten replace stored items, twenty are new
        put.commands.append(["put", "S", key, "--code", "%016x" % rng.getrandbits(64), "--payload", "put %d" % i])
    put.setup = delete.setup
    result["put"] = put

    reindex = Kind("reindex")
    reindex.commands = [["reindex", "S", "--substrings", str(m)] for m in (3, 5, 4, 6, 8, 3)]
    reindex.setup = [["create", "S", "--bare", "--bits", "64"], ["import", "S", "--codes", os.path.join(work, "codes.npy")]]
    result["reindex"] = reindex

    imports = Kind("import", batched=True)
    imports.commands = [["import", "S", "--codes", os.path.join(work, "chunk%d.npy" % c), "--keys", os.path.join(work, "chunk%d.keys" % c),
                         "--batch", "5000"] for c in range(4)]
    imports.setup = [["create", "S", "--bare", "--bits", "64"]]
    result["import"] = imports

    reencode = Kind("reencode")
    reencode.commands = [["reencode", "S", "--bits", "32"]]
    reencode.setup = [["create", "S", "--bits", "64"], ["ingest", "S", DATA, "--limit", "1500"]]
    result["reencode"] = reencode

    backup = Kind("backup")
    backup.commands = []
    for b in range(3):
        backup.commands.append(["backup", "S", "B%d" % b])
        backup.commands.append(["delete", "S"] + [KEY % k for k in range(100 * b, 100 * b + 100)])
    backup.setup = delete.setup
    result["backup"] = backup
    return result


def write_codes(work):
    """Random 64-bit codes for the reindex and import kinds (numpy's .npy layout, no numpy needed)."""
    rng = random.Random(11)

    def npy(path, rows):
        header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d, 8), }" % rows
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        with open(path, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
            f.write(rng.randbytes(rows * 8))

    npy(os.path.join(work, "codes.npy"), 100_000)
    for c in range(4):
        npy(os.path.join(work, "chunk%d.npy" % c), 20_000)
        with open(os.path.join(work, "chunk%d.keys" % c), "w") as f:
            f.write("".join("chunk%d-%d\n" % (c, r) for r in range(20_000)))


class Runner:
    def __init__(self, bgan_db, lossyfs, work):
        self.bgan_db, self.lossyfs, self.work = bgan_db, lossyfs, work
        self.log = open(os.path.join(work, "log"), "a")

    def argv(self, command, store, kind):
        argv = [self.bgan_db] + [store if a == "S" else a for a in command]
        if kind.sync and command[0] in ("ingest", "put", "delete", "reindex", "import"):
            argv += ["--sync", kind.sync]
        return argv

    def run(self, command, store, kind, check=True):
        argv = self.argv(command, store, kind)
        argv = [os.path.join(os.path.dirname(store), a) if a in ("B0", "B1", "B2") else a for a in argv]
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=self.log)
        if check and done.returncode != 0:
            raise RuntimeError("%s exited %d" % (" ".join(argv), done.returncode))
        return done.returncode

    def state(self, store):
        """What a store holds: its items (sorted key, code, payload lines), model and tables."""
        if not os.path.exists(os.path.join(store, "data.mdb")):
            return None
        out = os.path.join(self.work, "export.ndjson")
        if self.run(["export", "S", "--format", "ndjson", out], store, Kind("-"), check=False) != 0:
            return ("unreadable",)
        with open(out) as f:
            items = sorted("%s %s %s" % (r["key"], r["code_hex"], r.get("payload")) for r in map(json.loads, f))
        stats = json.loads(subprocess.run([self.bgan_db, "stats", store, "--json"], capture_output=True, text=True).stdout)
        return (tuple(items), stats.get("modelDigest"), stats.get("substrings"), stats.get("bits"))

    def verify(self, store):
        return subprocess.run([self.bgan_db, "verify", store], stdout=subprocess.DEVNULL, stderr=self.log).returncode == 0


def prepare(runner, kind, work):
    """The starting store, and the states after each command of an uninterrupted run."""
    base = os.path.join(work, "start-" + kind.name)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    if not kind.setup:
        # The first command makes the store: an empty folder for it, as `create` accepts.
        os.makedirs(os.path.join(base, "s"))
    store = os.path.join(base, "s")
    for command in kind.setup:
        runner.run(command, store, kind)
    reference = os.path.join(work, "reference-" + kind.name)
    shutil.rmtree(reference, ignore_errors=True)
    shutil.copytree(base, reference)
    states, backups = [runner.state(os.path.join(reference, "s"))], {}
    running = 0.0
    for command in kind.commands:
        started = time.time()
        runner.run(command, os.path.join(reference, "s"), kind)
        running += time.time() - started
        states.append(runner.state(os.path.join(reference, "s")))
        if command[0] == "backup":
            backups[command[2]] = runner.state(os.path.join(reference, command[2]))
    # The whole sequence takes about this long on a plain folder, longer through lossyfs.
    kind.window = 1.5 * running
    return base, states, backups


def between(found, before, after):
    """Whether `found` holds every item of `before` that `after` keeps, and only items of either."""
    if not all(state and len(state) == 4 for state in (found, before, after)):
        return False
    if (found[1], found[3]) not in ((before[1], before[3]), (after[1], after[3])):
        return False
    f, b, a = set(found[0]), set(before[0]), set(after[0])
    return (b & a) <= f <= (b | a)


def trial(runner, kind, base, states, backups, number, rng, lossyfs_stats):
    mode = "power-cut" if kind.sync == "none" else MODES[number % 3]
    state = os.path.join(runner.work, "trial")
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(os.path.join(state, "mnt"))
    shutil.copytree(base, os.path.join(state, "durable"))
    shutil.copytree(base, os.path.join(state, "live"))
    mount = os.path.join(state, "mnt")
    env = dict(os.environ, LOSSYFS_KEEP=KEEP[mode], LOSSYFS_SEED=str(number))
    daemon = subprocess.Popen([runner.lossyfs, state, mount, "-s", "-f"], env=env, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if os.path.ismount(mount):
            break
        time.sleep(0.01)
    else:
        raise RuntimeError("lossyfs did not mount " + mount)

    acks = os.path.join(runner.work, "acks")
    script = ["set -u"]
    for i, command in enumerate(kind.commands):
        argv = runner.argv(command, os.path.join(mount, "s"), kind)
        argv = [os.path.join(mount, a) if a in ("B0", "B1", "B2") else a for a in argv]
        script.append("echo start %d >> %s" % (i, acks))
        script.append(" ".join("'%s'" % a for a in argv) + " > /dev/null 2>> %s/log || exit 1" % runner.work)
        script.append("echo ack %d >> %s" % (i, acks))
    open(acks, "w").close()
    worker = subprocess.Popen(["bash", "-c", "\n".join(script)], start_new_session=True)
    try:
        worker.wait(timeout=rng.uniform(0, kind.window))
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    for _ in range(100):
        if subprocess.run(["fusermount3", "-u", mount], stderr=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.05)
    _, err = daemon.communicate(timeout=60)
    # Pages of the lock file do not count: LMDB rebuilds it on opening.
    dropped = sum(int(line.split()[2]) for line in err.splitlines()
                  if line.startswith("lossyfs: dropped") and not line.endswith("/lock.mdb"))
    lossyfs_stats["dropped"] += dropped
    lossyfs_stats["lost pages"] += dropped > 0

    keep = os.environ.get("POWER_LOSS_KEEP_FAILED")
    if keep:
        shutil.rmtree(os.path.join(runner.work, "cut"), ignore_errors=True)
        shutil.copytree(os.path.join(state, "durable"), os.path.join(runner.work, "cut"))
    lines = open(acks).read().split()
    acked = sum(1 for w in lines if w == "ack")
    inside = len(lines) >= 2 and lines[-2] == "start"
    store = os.path.join(state, "durable", "s")
    problems = []
    found = runner.state(store)
    before, after = states[acked], states[min(acked + 1, len(states) - 1)]
    half_made = kind.redone and inside and found not in (before, after)
    if not half_made and found is not None and not runner.verify(store):
        problems.append("verify failed")
    if found not in (before, after) and not half_made and not (kind.batched and inside and between(found, before, after)):
        problems.append("contents are not those of %d acknowledged commands%s" % (acked, " (or of the one in flight)" if inside else ""))
    for i in range(acked):
        command = kind.commands[i]
        if command[0] == "backup":
            copy = os.path.join(state, "durable", command[2])
            if not runner.verify(copy) or runner.state(copy) != backups[command[2]]:
                problems.append("acknowledged backup %s is not whole" % command[2])
    # Finish the work from the first command whose effect is missing: it must end in the final
    # state. (A command in flight may have committed all it does; `create` then refuses to run again.)
    if not problems:
        first = acked + 1 if inside and found == after and found != before else acked
        for command in kind.commands[first:]:
            if command[0] == "backup":
                shutil.rmtree(os.path.join(state, "durable", command[2]), ignore_errors=True)
            if runner.run(command, store, kind, check=False) != 0:
                runner.log.flush()
                with open(os.path.join(runner.work, "log")) as log:
                    said = [line.strip() for line in log if "error" in line][-1:]
                problems.append("resuming: %s failed (%s)" % (command[0], "; ".join(said)))
                break
        if not problems and runner.state(store) != states[-1]:
            problems.append("resumed run did not end in the final state")
    if problems and keep:
        saved = os.path.join(keep, "%s-%d" % (kind.name, number))
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(os.path.join(runner.work, "cut"), saved)
    return mode, acked, inside, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bgan-db", required=True)
    parser.add_argument("--lossyfs", required=True)
    parser.add_argument("--trials", type=int, default=150)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("kinds", nargs="*")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="power-loss-")
    all_kinds = kinds(work)
    chosen = args.kinds or ["create", "ingest", "delete", "put", "reindex", "import", "reencode", "backup", "control"]
    write_codes(work)
    runner = Runner(os.path.abspath(args.bgan_db), os.path.abspath(args.lossyfs), work)
    rng = random.Random(args.seed)
    failed = False
    try:
        for name in chosen:
            kind = all_kinds[name]
            base, states, backups = prepare(runner, kind, work)
            counts = {m: 0 for m in MODES}
            inside_count, problem_count, with_acks, caught = 0, 0, 0, 0
            lossyfs_stats = {"dropped": 0, "lost pages": 0}
            started = time.time()
            for number in range(args.trials):
                mode, acked, inside, problems = trial(runner, kind, base, states, backups, number, rng, lossyfs_stats)
                counts[mode] += 1
                inside_count += inside
                if name == "control":
                    if acked > 0:
                        with_acks += 1
                        caught += bool(problems)
                    continue
                if problems:
                    problem_count += 1
                    print("%s trial %d (%s, %d acknowledged%s): %s" % (name, number, mode, acked, ", killed inside a command" if inside else "",
                                                                       "; ".join(problems)), file=sys.stderr)
            seconds = time.time() - started
            if name == "control":
                print("control  %d power cuts after an acknowledged ingest with --sync none, %d caught as a loss (%d trials, %.0fs)" %
                      (with_acks, caught, args.trials, seconds))
                failed |= caught < with_acks or with_acks == 0
            else:
                print("%-8s %d trials (%d power cuts, %d partial, %d kills; %d cut inside a command; %d lost unsynced pages, %d pages in all): "
                      "%d failed (%.0fs)" % (name, args.trials, counts["power-cut"], counts["partial"], counts["kill"], inside_count,
                                             lossyfs_stats["lost pages"], lossyfs_stats["dropped"], problem_count, seconds))
                failed |= problem_count > 0
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
