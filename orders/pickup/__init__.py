"""Buy online, pick up in store: the store's side of a pickup.

The queue of the store's pickups (`queue`), picking by scan, short lines
(re-sourced through `orders.services`, or cancelled with a refund and the
customer told) and ready with a pickup code and its QR image (`picking`,
`codes`), the kiosk check-in and the verified hand-over (`counter`), and the
hold period's reminder and expiry (`expiry`).

Every change locks the order row first (`services._lock_order`), checks the
state inside the lock, writes an `OrderEvent` (who, when, where) and sends
customer messages through `retail.messaging.message_send` with a key, so a
double tap, two associates at once or a retried task change nothing twice.
Callers use the names below: `from orders import pickup; pickup.pickup_scan(...)`.
"""

from orders.pickup.base import (
    CODE_RE,
    GUESS_LIMIT,
    PICKABLE,
    PICKUP_METHODS,
    QR_RE,
    SCAN_MAX,
    AlreadyEnded,
    CodeLocked,
    LinesUnpicked,
    NotAllowed,
    NotCertified,
    NotHere,
    NotReady,
    PickupError,
    TooManyGuesses,
    WrongCode,
    WrongItem,
    clean,
)
from orders.pickup.codes import qr_payload, qr_png, resolve_code
from orders.pickup.counter import (
    TENDERS,
    amount_due,
    pickup_check_in,
    pickup_code_unlock,
    pickup_hand_over,
    pickup_link_customer,
)
from orders.pickup.expiry import (
    pickup_expire,
    pickup_remind,
    pickups_expire,
    pickups_remind,
    pickups_sweep,
)
from orders.pickup.picking import (
    ScanOutcome,
    ShortOutcome,
    pick_remaining,
    pickup_mark_ready,
    pickup_ready_notify,
    pickup_scan,
    pickup_short,
)
from orders.pickup.queue import (
    Bucket,
    annotate_for_display,
    hq_figures,
    order_parts,
    order_timeline,
    pickup_for_store,
    pickup_queue,
    pickup_search,
    pickups_at,
    queue_counts,
    shelf_stock,
)

__all__ = [
    "CODE_RE",
    "GUESS_LIMIT",
    "PICKABLE",
    "PICKUP_METHODS",
    "QR_RE",
    "SCAN_MAX",
    "TENDERS",
    "AlreadyEnded",
    "Bucket",
    "CodeLocked",
    "LinesUnpicked",
    "NotAllowed",
    "NotCertified",
    "NotHere",
    "NotReady",
    "PickupError",
    "ScanOutcome",
    "ShortOutcome",
    "TooManyGuesses",
    "WrongCode",
    "WrongItem",
    "amount_due",
    "annotate_for_display",
    "clean",
    "hq_figures",
    "order_parts",
    "order_timeline",
    "pick_remaining",
    "pickup_check_in",
    "pickup_code_unlock",
    "pickup_expire",
    "pickup_for_store",
    "pickup_hand_over",
    "pickup_link_customer",
    "pickup_mark_ready",
    "pickup_queue",
    "pickup_ready_notify",
    "pickup_remind",
    "pickup_scan",
    "pickup_search",
    "pickup_short",
    "pickups_at",
    "pickups_expire",
    "pickups_remind",
    "pickups_sweep",
    "qr_payload",
    "qr_png",
    "queue_counts",
    "resolve_code",
    "shelf_stock",
]
