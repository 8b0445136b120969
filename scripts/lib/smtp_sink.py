#!/usr/bin/env python3
"""A real SMTP server for Liasse's tests: accepts every message on a loopback port and
writes each one into a directory, so that tests read back what was delivered.

Each message becomes NAME.json (envelope, decoded headers and text body, the fields tests
compare) and NAME.eml (the message as received). Files are written under a temporary name
and renamed, so a reader never sees half a message.

Usage: smtp_sink.py --port PORT --dir DIR   (runs until SIGTERM or SIGINT)
Needs aiosmtpd (scripts/lib/services.sh installs a pinned version in a venv).
"""

import argparse
import email
import email.policy
import itertools
import json
import os
import signal
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def _write(self, name, data):
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "body": part.get_content() if part is not None else "",
            "received_at": time.time(),
        }
        with self.lock:
            name = f"{time.time_ns()}-{next(self.counter):06d}"
        self._write(f"{name}.eml", raw)
        self._write(f"{name}.json", json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp sink listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
