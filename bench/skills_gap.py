"""What the skills-gap views cost: the store heatmap and HQ's network view against
a bare view, on the large demo data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/skills_gap.py

DATABASE_URL only names the server: the benchmark (re)creates its own database,
`aisle_bench_training` unless `--database` says otherwise (`--reuse` keeps one
already seeded), migrates it, runs `seed_demo --scale large --force` (50 stores,
1,000+ store staff with varied levels and history) and `collectstatic`. Then,
under gunicorn (2 workers, DEBUG=0, SECURE_SSL_REDIRECT=0, persistent
PostgreSQL connections, the project's whole middleware stack), it loads with
wrk, alternating, each `--rounds` times after a warm-up:

- the store heatmap `GET /store/training/team/` as the manager of S03 (a session
  made with Django's session store, as a login would);
- the network view `GET /hq/training/` as the HQ admin, with a session that has
  passed TOTP (the records allauth keeps after its TOTP step);
- the bare view of `bench/urls.py` (a short text through the same middleware),
  with the same cookie;
- for scale, the tablet's home page `GET /store/` as the same manager: the
  cheapest page in the same shell, with no training work.

Prints the median requests per second of each and each view's ratio to the bare
view; exits 1 when a training view's ratio is under 0.1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.1
HEATMAP = "/store/training/team/"
NETWORK = "/hq/training/"
BARE = "/bench/bare/"
HOME = "/store/"
MANAGER = "manager.s03@demo.aisle"

SESSIONS = r"""
import json, time
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from retail.access import STORE_SESSION_KEY
from retail.demo import HQ_EMAIL
from retail.models import StaffProfile, Store, User
from training.models import LevelRecord

def session(user, **extra):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "retail.backends.StaffModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.update(extra)
    store.create()
    return store.session_key

manager = User.objects.get(email="%(manager)s")
hq = User.objects.get(email=HQ_EMAIL)
now = time.time()
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME,
    "manager": session(manager, **{STORE_SESSION_KEY: Store.objects.get(code="S03").pk}),
    "hq": session(hq, **{
        "account_authentication_methods_user": str(hq.pk),
        AUTHENTICATION_METHODS_SESSION_KEY: [
            {"method": "password", "at": now, "email": hq.email},
            {"method": "mfa", "at": now, "type": "totp"},
        ],
    }),
    "stores": Store.objects.count(),
    "staff": StaffProfile.objects.filter(role__in=("associate", "store_manager")).count(),
    "levels": LevelRecord.objects.count(),
    "heatmap_staff": StaffProfile.objects.filter(
        home_store__code="S03", role__in=("associate", "store_manager")
    ).count(),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_training")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = harness.require_postgres("bench/skills_gap.py")
    media = tempfile.mkdtemp(prefix="aisle-bench-media-")
    try:
        env = harness.environment(
            harness.fresh_database(server, args.database, keep_existing=args.reuse),
            MEDIA_ROOT=media,
        )
        harness.manage(env, "migrate", "--no-input")
        seeded = "seeded" in harness.django_shell(
            env,
            "from training.models import LevelRecord; "
            "print('seeded' if LevelRecord.objects.exists() else 'empty')",
        )
        if not (args.reuse and seeded):
            print("seeding the large demo network (a few minutes) …", flush=True)
            harness.manage(env, "seed_demo", "--scale", "large", "--force")
        harness.manage(env, "collectstatic", "--no-input", "-v", "0")
        info = json.loads(
            harness.django_shell(env, SESSIONS % {"manager": MANAGER}).strip().splitlines()[-1]
        )
        return run(env, info, args)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(env: dict, info: dict, args) -> int:
    cookie = info["cookie"]
    views = {
        "store heatmap": (HEATMAP, {"Cookie": f"{cookie}={info['manager']}"}, "Team skills"),
        "network view": (
            NETWORK,
            {"Cookie": f"{cookie}={info['hq']}"},
            "Skills across the network",
        ),
    }
    bare_headers = {"Cookie": f"{cookie}={info['manager']}"}
    # For scale: the tablet's home page, the cheapest page in the same shell
    # (session, user, profile and store look-ups, the base template), no training work.
    shell = (HOME, bare_headers, "Hello")
    rates: dict[str, list[float]] = {name: [] for name in [*views, "store home", "bare view"]}
    print(
        f"data: {info['stores']} stores, {info['staff']} store staff, {info['levels']:,} level "
        f"records; the heatmap's store has {info['heatmap_staff']} staff"
    )
    with harness.gunicorn(env, workers=2) as base:
        for path, headers, text in [*views.values(), shell]:
            expect_page(base + path, headers, text)
        print(f"gunicorn 2 workers; wrk 2 threads, 16 connections, {args.seconds} s each")
        for path, headers, _text in views.values():  # warm each worker and its connection
            harness.wrk(base + path, seconds=2, headers=headers)
        harness.wrk(base + BARE, seconds=2, headers=bare_headers)
        for number in range(1, args.rounds + 1):
            for name, (path, headers, _text) in views.items():
                result = harness.wrk(base + path, seconds=args.seconds, headers=headers)
                assert result.non_2xx == 0 and result.errors == 0, result
                rates[name].append(result.requests_per_second)
                print(f"  round {number} {name:>13}: {result}", flush=True)
            home = harness.wrk(base + shell[0], seconds=args.seconds, headers=shell[1])
            rates["store home"].append(home.requests_per_second)
            print(f"  round {number} {'store home':>13}: {home}", flush=True)
            bare = harness.wrk(base + BARE, seconds=args.seconds, headers=bare_headers)
            rates["bare view"].append(bare.requests_per_second)
            print(f"  round {number} {'bare view':>13}: {bare}", flush=True)

    medians = {name: statistics.median(values) for name, values in rates.items()}
    print()
    ok = True
    for name, (path, _headers, _text) in views.items():
        ratio = medians[name] / medians["bare view"]
        ok &= ratio >= TARGET
        print(
            f"{name:<13} GET {path:<22} {medians[name]:>8,.0f} requests/s, "
            f"{ratio:.2f} of the bare view (target ≥ {TARGET}: "
            f"{'met' if ratio >= TARGET else 'MISSED'})"
        )
    home_ratio = medians["store home"] / medians["bare view"]
    print(
        f"{'store home':<13} GET {HOME:<22} {medians['store home']:>8,.0f} requests/s, "
        f"{home_ratio:.2f} of the bare view (for scale: the shell alone)"
    )
    print(f"{'bare view':<13} GET {BARE:<22} {medians['bare view']:>8,.0f} requests/s")
    return 0 if ok else 1


def expect_page(url: str, headers: dict, text: str) -> None:
    """One request first: the figures are for the page itself, not a redirect or a 403."""
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode(errors="replace")
    if status != 200 or text not in body:
        sys.exit(f"expected 200 with {text!r} from {url}, got {status}: {body[:300]!r}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    sys.exit(main())
