"""Drives the example service with real HTTP requests (curl) and checks every answer.

    python3 test.py SERVICE_BINARY

Starts the service on a free loopback port with a new store, then: health; ingest of 60
Fashion-MNIST images (PGM bodies, labels as payloads); search by image and by code; a thumbnail;
delete; bad requests (not an image, a bad or wrong-length code, an empty or too large body, k=0),
each answered 4xx with JSON that says what was wrong and changing nothing; metrics; and a SIGTERM
while 8 clients insert, after which every acknowledged insert is found by a restarted service.
"""
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FASHION = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(method, url, body=None, headers=()):
    """(status, body bytes, content type) of one request through curl."""
    with tempfile.NamedTemporaryFile() as out:
        command = ["curl", "-s", "-m", "30", "-o", out.name, "-w", "%{http_code} %{content_type}", "-X", method, url]
        for header in headers:
            command += ["-H", header]
        if body is not None:
            command += ["--data-binary", "@-", "-H", "Content-Type: application/octet-stream"]
        done = subprocess.run(command, input=body, capture_output=True)
        status, _, kind = done.stdout.decode().partition(" ")
        return int(status or 0), open(out.name, "rb").read(), kind


def images(count):
    raw = gzip.open(FASHION).read()[16:]
    labels = gzip.open(LABELS).read()[8:]
    return [(b"P5 28 28 255\n" + raw[i * 784:(i + 1) * 784], str(labels[i])) for i in range(count)]


def mirror_image(pgm):
    """A 28x28 PGM flipped left to right."""
    header, pixels = pgm[:13], pgm[13:]
    return header + b"".join(pixels[row * 28:(row + 1) * 28][::-1] for row in range(28))


class Service:
    def __init__(self, binary, store, port, *extra):
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(store + f".{port}.log", "w+b")
        self.process = subprocess.Popen([binary, "--store", store, "--port", str(port), *extra],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if curl("GET", self.base + "/health")[0] == 200:
                    return
            except Exception:
                pass
            time.sleep(0.2)
        self.process.kill()
        self.log.seek(0)
        sys.exit("the service did not answer /health within 60 s:\n" + self.log.read().decode(errors="replace"))

    def stop(self):
        """SIGTERM, then its exit status; killed (and None) if it has not stopped within 60 s."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()


def main():
    binary = sys.argv[1]
    pictures = images(60)
    with tempfile.TemporaryDirectory() as scratch:
        store = os.path.join(scratch, "store")
        services = []
        try:
            run_checks(binary, store, pictures, services)
        finally:
            for service in services:
                service.kill()
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("all checks passed")


def run_checks(binary, store, pictures, services):
    service = Service(binary, store, free_port(), "--maximum-body", "100000")
    services.append(service)
    base = service.base

    status, body, _ = curl("GET", base + "/health")
    health = json.loads(body)
    check(status == 200 and health["status"] == "ok" and health["items"] == 0 and health["bits"] == 64, f"health of a new store: {health}")

    statuses = [curl("POST", f"{base}/items/img{i}", pgm, [f"X-Payload: label {label}"])[0] for i, (pgm, label) in enumerate(pictures)]
    check(statuses == [201] * len(pictures), "60 images ingested, each 201 Created")
    status, body, _ = curl("POST", f"{base}/items/img3", pictures[3][0], ["X-Payload: again"])
    check(status == 200 and json.loads(body)["created"] is False, "the same key again replaces the item: 200, created false")
    status, body, _ = curl("GET", f"{base}/items/img3")
    item = json.loads(body)
    check(status == 200 and item["payload"] == "again" and len(item["code"]) == 16, f"GET an item: {item}")

    status, body, _ = curl("POST", f"{base}/search?k=5", pictures[7][0])
    hits = json.loads(body)["hits"]
    check(status == 200 and len(hits) == 5 and hits[0]["key"] == "img7" and hits[0]["distance"] == 0,
          f"search by a stored image finds it first: {[(h['key'], h['distance']) for h in hits]}")
    check(hits[0]["payload"] == f"label {pictures[7][1]}", "hits carry their payload as text")
    code = json.loads(curl("GET", f"{base}/items/img7")[1])["code"]
    status, body, _ = curl("POST", f"{base}/search?code={code}&k=3")
    found = json.loads(body)["hits"]
    check(status == 200 and found[0]["distance"] == 0 and "img7" in [h["key"] for h in found if h["distance"] == 0],
          "search by code finds the item at distance 0")
    status, body, _ = curl("POST", f"{base}/search?code={code}&radius=0")
    check(status == 200 and all(h["distance"] == 0 for h in json.loads(body)["hits"]), "radius search answers within the radius")

    mirrored = mirror_image(pictures[8][0])
    status, body, _ = curl("POST", f"{base}/search?k=3&mirror=true", mirrored)
    hits = json.loads(body)["hits"]
    check(status == 200 and hits[0]["key"] == "img8" and hits[0]["distance"] == 0,
          f"mirror=true: a mirrored copy finds its original first: {[(h['key'], h['distance']) for h in hits]}")

    retoned = pictures[9][0][:13] + bytes(min(255, round(v * 0.9 + 12)) for v in pictures[9][0][13:])
    status, body, _ = curl("POST", f"{base}/search?k=3&copies=true", retoned)
    hits = json.loads(body)["hits"]
    check(status == 200 and hits[0]["key"] == "img9",
          f"copies=true: a re-toned copy finds its original first: {[(h['key'], h['distance']) for h in hits]}")

    status, body, kind = curl("GET", f"{base}/items/img7/thumbnail")
    check(status == 200 and kind.startswith("image/png") and body[:8] == b"\x89PNG\r\n\x1a\n", "the thumbnail is a PNG")

    status, _, _ = curl("DELETE", f"{base}/items/img7")
    check(status == 204, "delete: 204")
    status, body, _ = curl("DELETE", f"{base}/items/img7")
    check(status == 404 and "img7" in json.loads(body)["error"]["message"], "deleting it again: 404 naming the key")
    hits = json.loads(curl("POST", f"{base}/search?k=5", pictures[7][0])[1])["hits"]
    check("img7" not in [h["key"] for h in hits], "a deleted item is no longer found")

    bad = [
        ("POST", f"{base}/items/notanimage", b"hello, this is text", 415, "is not a PNG, JPEG, WebP, BMP, PGM or PPM image"),
        ("POST", f"{base}/search?code=zz", None, 400, "not a hexadecimal code"),
        ("POST", f"{base}/search?code=00ff", None, 400, "16 bits; this store holds 64-bit codes"),
        ("POST", f"{base}/search?k=5", b"", 400, "the body is empty"),
        ("POST", f"{base}/search?k=0", pictures[0][0], 400, "k=0 must be a whole number"),
        ("POST", f"{base}/search?k=5&mirror=maybe", pictures[0][0], 400, "mirror=maybe must be true or false"),
        ("POST", f"{base}/search?code={code}&mirror=true", None, 400, "a code has no mirror image"),
        ("POST", f"{base}/search?k=5&copies=yes", pictures[0][0], 400, "copies=yes must be true or false"),
        ("POST", f"{base}/search?code={code}&k=3&copies=true", None, 400, "a code has no thumbnail to compare"),
        ("POST", f"{base}/search?radius=3&copies=true", pictures[0][0], 400, "copies=true orders the k nearest"),
        ("POST", f"{base}/items/big", b"P5 400 400 255\n" + bytes(160000), 413, "larger than 100000 bytes"),
        ("POST", f"{base}/items/bomb", b"P5 100000 100000 255\n" + bytes(64), 422, "pixels"),
    ]
    for method, url, payload, expected, words in bad:
        status, body, kind = curl(method, url, payload)
        message = json.loads(body)["error"]["message"] if kind.startswith("application/json") else body.decode(errors="replace")
        check(status == expected and words in message, f"{method} {url.replace(base, '')}: {status} '{message[:90]}'")
    health = json.loads(curl("GET", base + "/health")[1])
    check(health["items"] == 59, f"bad requests changed nothing: {health['items']} items")

    status, body, _ = curl("GET", base + "/metrics")
    text = body.decode()
    check(status == 200 and 'bganstore_query_duration_seconds_count{path=' in text and "hb_requests{" in text,
          "metrics in Prometheus text: the store's (query latency by path) and the server's (requests by route)")

    # SIGTERM while 8 clients insert: every acknowledged insert must survive.
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def client(number):
        i = 0
        while not stop.is_set():
            key = f"load-{number}-{i}"
            status, _, _ = curl("POST", f"{base}/items/{key}", pictures[i % 60][0])
            if status in (200, 201):
                with lock:
                    acknowledged.append(key)
            elif status == 0:
                return
            i += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    try:
        exit_status = service.stop()
    finally:
        stop.set()
    for t in threads:
        t.join(timeout=60)
    check(exit_status == 0, f"SIGTERM under load: the service stopped cleanly (status {exit_status})")
    check(len(acknowledged) > 0, f"{len(acknowledged)} inserts acknowledged before the SIGTERM")

    service = Service(binary, store, free_port())
    services.append(service)
    missing = [key for key in acknowledged if curl("GET", f"{service.base}/items/{key}")[0] != 200]
    check(not missing, f"after a restart every acknowledged insert is there (missing: {missing[:5]})")
    service.stop()


if __name__ == "__main__":
    main()
