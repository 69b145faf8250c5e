#!/usr/bin/python3
"""Interoperability test: a CCS app server written on slixmpp (Debian's
python3-slixmpp), from the CCS reference alone, against ccs-emulator.

It starts ccs-emulator on a free port, reads its --json start-up line,
authenticates with SASL PLAIN, sends downstream messages, expects an ACK,
NACKs (unknown token, unregistered device) and a delivery receipt, makes a
device send an upstream message through the admin API and ACKs it, then
checks the emulator's record and stops it with SIGTERM.

With --graded REPORT the emulator runs with --conformance and grades this
client; the JSON report must be written and no rule may fail.

Exit status: 0 passed, 1 failed, 77 skipped (slixmpp missing).
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.request

try:
    import slixmpp
    from slixmpp.stanza import Message
    from slixmpp.xmlstream import ElementBase, register_stanza_plugin
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import StanzaPath
except ImportError as e:  # pragma: no cover
    print(f"SKIP: slixmpp is not importable here ({e}); run under /usr/bin/python3", file=sys.stderr)
    sys.exit(77)

GCM_NS = "google:mobile:data"


class Gcm(ElementBase):
    """<gcm xmlns="google:mobile:data">JSON</gcm>"""

    name = "gcm"
    namespace = GCM_NS
    plugin_attrib = "gcm"
    interfaces = {"json"}

    def get_json(self):
        return self.xml.text or ""

    def set_json(self, value):
        self.xml.text = value

    def del_json(self):
        self.xml.text = None


register_stanza_plugin(Message, Gcm)


class Failure(Exception):
    pass


class CcsClient(slixmpp.ClientXMPP):
    def __init__(self, sender_id, api_key, admin_url, admin_token):
        jid = f"{sender_id}@gcm.googleapis.com"
        super().__init__(jid, api_key, sasl_mech="PLAIN")
        # CCS wants the whole SENDER_ID@gcm.googleapis.com as the PLAIN user name.
        self.credentials["username"] = jid
        # slixmpp cannot tell that a direct-TLS transport is encrypted; it is.
        self["feature_mechanisms"].config["unencrypted_plain"] = True
        self.admin_url = admin_url
        self.admin_token = admin_token
        self.inbox = asyncio.Queue()
        self.register_handler(Callback("CCS gcm", StanzaPath("message/gcm"), self._on_gcm))
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("failed_auth", lambda *_: self._fail("SASL PLAIN was refused"))
        self.result = None

    def _fail(self, why):
        if self.result is None:
            self.result = why
        self.disconnect()

    def _on_gcm(self, msg):
        text = msg["gcm"]["json"]
        try:
            payload = json.loads(text)
        except ValueError:
            payload = {"_unparsable": text}
        if msg["type"] == "error":
            payload = {"_stanza_error": True, **payload}
        self.inbox.put_nowait(payload)

    def send_gcm(self, payload):
        msg = self.make_message(mto="gcm.googleapis.com")
        msg["gcm"]["json"] = json.dumps(payload)
        msg.send()

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + "/api/v1" + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.admin_token)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode())

    async def expect(self, predicate, what, timeout=10.0):
        """Waits for a gcm payload satisfying predicate; ACKs nothing by itself."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise Failure(f"timed out waiting for {what}")
            payload = await asyncio.wait_for(self.inbox.get(), remaining)
            if predicate(payload):
                print(f"ok: {what}: {json.dumps(payload)}")
                return payload
            self.seen.append(payload)

    async def _on_session_start(self, _event):
        self.seen = []
        try:
            await self.scenario()
            self.result = "passed"
        except Failure as e:
            self.result = str(e)
        except asyncio.TimeoutError:
            self.result = "timed out"
        except Exception as e:  # noqa: BLE001 - any surprise fails the test
            self.result = f"{type(e).__name__}: {e}"
        self.disconnect()

    async def scenario(self):
        devices = {d["kind"]: d["token"] for d in reversed(self.admin("GET", "/devices"))}
        registered = devices["registered"]
        unregistered = devices["unregistered"]

        # 1. A valid message with a receipt requested: ACK, then receipt.
        self.send_gcm({"to": registered, "message_id": "slix-1", "data": {"hello": "from slixmpp", "tricky": "</gcm>&<"},
                       "delivery_receipt_requested": True, "time_to_live": 600})
        ack = await self.expect(lambda p: p.get("message_type") == "ack" and p.get("message_id") == "slix-1", "ACK")
        if ack.get("from") != registered:
            raise Failure(f"ACK from {ack.get('from')!r}, expected the token {registered!r}")

        # 2. NACKs: an unknown token and an unregistered device.
        self.send_gcm({"to": "no-such-token", "message_id": "slix-2", "data": {"a": "b"}})
        nack = await self.expect(lambda p: p.get("message_type") == "nack" and p.get("message_id") == "slix-2",
                                 "NACK for an unknown token")
        if nack.get("error") != "BAD_REGISTRATION":
            raise Failure(f"expected BAD_REGISTRATION, got {nack.get('error')}")
        self.send_gcm({"to": unregistered, "message_id": "slix-3"})
        nack = await self.expect(lambda p: p.get("message_type") == "nack" and p.get("message_id") == "slix-3",
                                 "NACK for an unregistered device")
        if nack.get("error") != "DEVICE_UNREGISTERED":
            raise Failure(f"expected DEVICE_UNREGISTERED, got {nack.get('error')}")

        # 3. The receipt for slix-1; ACKed with its own dr2: id.
        receipt = await self.expect(lambda p: p.get("message_type") == "receipt", "delivery receipt")
        if receipt.get("message_id") != "dr2:slix-1" or receipt["data"].get("original_message_id") != "slix-1":
            raise Failure(f"bad receipt {receipt}")
        self.send_gcm({"to": receipt["from"], "message_id": receipt["message_id"], "message_type": "ack"})

        # 4. An upstream message, made through the admin API, ACKed.
        # The device chooses the id (here explicitly); (from, message_id) identifies it.
        sent = self.admin("POST", f"/devices/{registered}/upstream",
                          {"data": {"question": "ping?"}, "message_id": "1", "category": "org.example.slix"})
        if sent.get("message_id") != "1":
            raise Failure(f"the emulator did not keep the device's id: {sent}")
        upstream = await self.expect(lambda p: "message_type" not in p and p.get("message_id") == sent["message_id"]
                                     and p.get("from") == registered, "upstream message")
        if upstream.get("category") != "org.example.slix":
            raise Failure(f"bad upstream category {upstream}")
        if upstream.get("from") != registered or upstream.get("data", {}).get("question") != "ping?":
            raise Failure(f"bad upstream message {upstream}")
        self.send_gcm({"to": upstream["from"], "message_id": upstream["message_id"], "message_type": "ack"})

        # 5. The emulator's record: both ACKs arrived, nothing was answered twice.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            record = self.admin("GET", "/record")
            acked = {(u["from"], u["message_id"]): u["acked"] for u in record["upstream"]}
            if acked.get((registered, sent["message_id"])) and acked.get(("gcm.googleapis.com", "dr2:slix-1")):
                break
            if loop.time() > deadline:
                raise Failure(f"the emulator did not record the ACKs: {record['upstream']}")
            await asyncio.sleep(0.05)
        verdicts = {d["message_id"]: d["verdict"] for d in record["downstream"]}
        expected = {"slix-1": "ack", "slix-2": "nack:BAD_REGISTRATION", "slix-3": "nack:DEVICE_UNREGISTERED"}
        for mid, verdict in expected.items():
            if verdicts.get(mid) != verdict:
                raise Failure(f"record says {mid} -> {verdicts.get(mid)}, expected {verdict}")
        if record["counters"]["bad_acks"] != 0:
            raise Failure("the emulator saw a bad ACK")
        print("ok: the emulator's record agrees")

        # 6. CONNECTION_DRAINING in the guide's form (<data:gcm xmlns:data=...>, no
        # stanza id) reaches a third-party XMPP parser as a gcm payload.
        self.admin("POST", "/connections/drain", {})
        await self.expect(lambda p: p.get("message_type") == "control"
                          and p.get("control_type") == "CONNECTION_DRAINING", "CONNECTION_DRAINING")
        print("ok: CONNECTION_DRAINING in the guide's form")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", required=True, help="path of the ccs-emulator program")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--graded", metavar="REPORT", help="run ccs-emulator --conformance, report here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)

    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, QT_LOGGING_RULES="ccs.*.debug=false;ccs.*.info=false")
        command = [args.emulator, "--listen", "127.0.0.1:0", "--json", "--data-dir", data_dir,
                   "--receipt-delay-ms", "100", "--seed", "4242"]
        if args.graded:
            # This client ACKs only the upstream messages it asks for: the
            # scenario's own upstream traffic stays off.
            command += ["--conformance", "--conformance-upstream-every", "0", "--report-json", args.graded]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = proc.stdout.readline()
            if not line:
                print("FAIL: ccs-emulator printed nothing", file=sys.stderr)
                return 1
            info = json.loads(line)
            if info.get("seed") != "4242":
                print(f"FAIL: the start line does not carry the run's seed: {info.get('seed')!r}", file=sys.stderr)
                return 1
            with open(info["api_key_file"], encoding="utf-8") as f:
                api_key = f.readline().strip()
            ctx = ssl.create_default_context(cafile=info["certificate"])

            client = CcsClient(info["sender_id"], api_key, info["admin_url"], info["admin_token"])
            client.ssl_context = ctx
            client.connect(("127.0.0.1", info["port"]), use_ssl=True, disable_starttls=True)
            loop = asyncio.get_event_loop()
            try:
                loop.run_until_complete(asyncio.wait_for(client.disconnected, 60))
            except asyncio.TimeoutError:
                client.result = client.result or "timed out after 60 s"
            result = client.result or "the connection ended before the session started"
            for task in asyncio.all_tasks(loop):
                task.cancel()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "killed"
            rest = proc.stdout.read() if proc.stdout else ""
        if args.graded:
            print(rest)
            try:
                with open(args.graded, encoding="utf-8") as f:
                    report = json.load(f)
            except (OSError, ValueError) as e:
                print(f"FAIL: no conformance report: {e}", file=sys.stderr)
                return 1
            statuses = {r["id"]: r["status"] for r in report["rules"]}
            print("graded:", json.dumps(statuses))
            if len(statuses) != 11 or not report["passed"]:
                print(f"FAIL: the grader failed slixmpp: {json.dumps(report['rules'], indent=1)}", file=sys.stderr)
                return 1
        if result != "passed":
            print(f"FAIL: {result}", file=sys.stderr)
            return 1
        if code != 0:
            print(f"FAIL: ccs-emulator exited with {code} after SIGTERM", file=sys.stderr)
            return 1
        print("PASS: slixmpp interoperates with ccs-emulator")
        return 0


if __name__ == "__main__":
    sys.exit(main())
