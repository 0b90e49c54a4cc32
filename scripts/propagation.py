#!/usr/bin/env python3
"""Change propagation between two app servers on one database.

Signs in on server A and B as the same user, then N times: changes one
lesson of a student through A's JSON API (present <-> unknown absence, with
the lesson's revision), and polls B's view of that student until B's
attendance (computed by B's in-memory school) shows the change. Prints the
delays (from A's answer to B showing it) as p50, p90, p99 and max.

    scripts/propagation.py BASE_A BASE_B USER PASSWORD STUDENT [N]

Only the standard library; traffic goes where the two base URLs point.
"""
import http.cookiejar
import json
import sys
import time
import urllib.parse
import urllib.request


def client(base, user, password):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode(
        {"gebruikersnaam": user, "wachtwoord": password, "terug": "/"}
    ).encode()
    opener.open(base + "/inloggen", form).read()
    session = json.load(opener.open(base + "/api/sessie"))
    return opener, session["csrf_token"]


def get(opener, url):
    return json.load(opener.open(url))


def put(opener, csrf, url, body):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    return json.load(opener.open(req))


def main():
    base_a, base_b, user, password, student = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    a, csrf = client(base_a, user, password)
    b, _ = client(base_b, user, password)
    regs = get(a, f"{base_a}/api/leerlingen/{student}/registraties")
    lessons = regs["registrations"] if isinstance(regs, dict) else regs
    lesson = lessons[-1]
    date, number, revision = lesson["date"], lesson["lesson"], lesson["revision"]
    present = lesson["category"] == "present"
    delays = []
    for _ in range(n):
        present = not present
        changed = put(
            a,
            csrf,
            f"{base_a}/api/leerlingen/{student}/registraties/{date}/{number}",
            {"category": "present" if present else "unknown", "revision": revision},
        )
        revision = changed["registration"]["revision"]
        start = time.monotonic()
        want = get(a, f"{base_a}/api/leerlingen/{student}")["attendance"]["attended"]
        while True:
            seen = get(b, f"{base_b}/api/leerlingen/{student}")["attendance"]["attended"]
            if seen == want:
                break
            if time.monotonic() - start > 30:
                sys.exit(f"server B liet de wijziging na 30 s nog niet zien ({seen} != {want})")
            time.sleep(0.005)
        delays.append(time.monotonic() - start)
    delays.sort()

    def pct(p):
        return delays[min(len(delays) - 1, int(round(p / 100 * (len(delays) - 1))))] * 1000

    print(
        f"doorgifte A -> B over {n} wijzigingen: p50 {pct(50):.0f} ms, p90 {pct(90):.0f} ms, "
        f"p99 {pct(99):.0f} ms, max {delays[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
