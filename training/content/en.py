"""The courses in English, written for Aisle's store staff.

Each course: a title, a summary, short modules (title, illustration, text; an
empty line starts a paragraph) and a quiz of one-answer ("single") and
several-answer ("multiple") questions.
"""
# ruff: noqa: E501 - course text: paragraphs stay one line each, as written.

LANGUAGE = "en"

COURSES = {
    "welcome-omnichannel": {
        "title": "Welcome to the omnichannel store",
        "summary": "What changes when the web shop, the app and the store are one business, "
        "and what that means for your first weeks.",
        "modules": [
            {
                "title": "One customer, many doors",
                "illustration": "journey",
                "body": """A customer no longer walks a straight line from seeing a product to buying it. She may spot a jacket on social media, read its reviews on our web shop at lunch, try it on in the store after work and order another colour on the app that evening.

For her, all of this is one shop. She expects us to know her wherever she comes in, to show the same price and to keep the promise the web shop made.

Aisle is built on that idea: one customer profile behind every channel, one stock picture for the whole network, one order that any store can hand over or take back.""",
            },
            {
                "title": "Several channels are not yet one",
                "illustration": "brand",
                "body": """Many retailers sell through many channels, yet each channel runs on its own: its own stock, its own customers, its own targets. That is multichannel. Linking a few journeys, such as collecting a web order in store, is a step further.

Omnichannel goes all the way: every channel shares the same data in real time and is measured by how well the whole journey serves the customer, not by its own sales alone.

For you this means that a sale you helped with counts even when the customer pays online later, and that what you record on the tablet helps your colleagues in every channel.""",
            },
            {
                "title": "Your first weeks",
                "illustration": "tablet",
                "body": """Your onboarding path lists a few short courses with due dates. Take them on the store tablet between customers: your progress is saved after every module.

Each course ends with a quiz. Pass it and your skill level rises and you receive a certificate. Some tablet actions, such as messaging customers or handing over a parcel without its code, open only with the right certificate.

Your manager will also assess your skills with you. Compare their view with your own self-assessment: the gaps between what your role needs and where you are today show you what to learn next.""",
            },
        ],
        "quiz": [
            (
                "single",
                "A customer tried a jacket in store and ordered it on the app the same evening. "
                "What does omnichannel retail aim for?",
                [
                    ("That she meets one business with one price and one view of her.", True),
                    ("That the app and the store compete for her order.", False),
                    ("That she is asked to buy in the store instead.", False),
                ],
            ),
            (
                "single",
                "What best describes multichannel retail?",
                [
                    ("Several channels, each run on its own with its own data.", True),
                    ("Every channel sharing stock and customers in real time.", False),
                    ("Selling only through the web shop.", False),
                ],
            ),
            (
                "multiple",
                "Which of these happen when you pass a course quiz? (Choose all that apply.)",
                [
                    ("Your skill level rises for the skills the course teaches.", True),
                    ("You receive a certificate with an expiry date.", True),
                    ("Your manager's assessment is deleted.", False),
                ],
            ),
            (
                "single",
                "You lose your connection halfway through a course. What happens?",
                [
                    ("You continue from the last module you finished.", True),
                    ("You start the course again from the beginning.", False),
                    ("The course counts as failed.", False),
                ],
            ),
        ],
    },
    "cross-channel-customer": {
        "title": "Reading the cross-channel customer",
        "summary": "Showrooming, webrooming and the customer's trail on the tablet: how to "
        "turn what a customer did online into better advice in store.",
        "modules": [
            {
                "title": "Showrooming and webrooming",
                "illustration": "journey",
                "body": """Some customers come to the store to see, touch and try, then buy online, perhaps for a colour we do not hold or for home delivery. That is showrooming. It is not a lost sale if the online order is ours: help them, and make it easy to order.

Others research online first, compare, read reviews, and then come in to check the real thing and buy. That is webrooming. They arrive well informed and want their question answered, not a sales pitch from the start.

Both groups are trying to lower their risk: will it fit, is the quality right, is this the best option? Your job is to remove that doubt.""",
            },
            {
                "title": "The trail on the tablet",
                "illustration": "tablet",
                "body": """When a customer has agreed to tracking and tells you who they are, the tablet shows what they looked at recently, what they put in a basket and what they bought in any channel.

Use it to start where they left off: "I see you were looking at the merino crew neck. Shall we find your size?" Do not read the list aloud, and never comment on something a customer might find private.

No trail? Ask open questions. Many customers browse without logging in; a good question works as well as any data.""",
            },
            {
                "title": "From one customer to patterns",
                "illustration": "dashboard",
                "body": """Over a week, notice which products people come in to try after viewing them online, and which ones they try here but buy later online. These patterns tell the store what to display, what sizes to keep on the floor and where the online pictures fall short.

Share what you notice at the team briefing. Cross-channel figures, such as how many store visits follow an online view, make these patterns visible across the network.""",
            },
        ],
        "quiz": [
            (
                "single",
                "A customer compares three coats online, then comes to the store to try the one "
                "she liked best. What is this called?",
                [
                    ("Webrooming", True),
                    ("Showrooming", False),
                    ("Drop-shipping", False),
                ],
            ),
            (
                "single",
                "A customer tries trainers in store, then orders them online for home delivery. "
                "What is the best response?",
                [
                    ("Help them and make the online order easy: it is still our sale.", True),
                    ("Refuse to help customers who will not buy in store.", False),
                    ("Tell them the online price is wrong.", False),
                ],
            ),
            (
                "multiple",
                "The tablet shows a customer's recent browsing. Which are good uses of it? "
                "(Choose all that apply.)",
                [
                    ("Picking up the conversation where they left off online.", True),
                    ("Finding their size in the product they viewed.", True),
                    ("Reading their whole browsing list aloud to them.", False),
                ],
            ),
            (
                "single",
                "When may the tablet show a customer's browsing at all?",
                [
                    ("When the customer agreed to tracking and has identified themselves.", True),
                    ("Always, for every visitor to the web shop.", False),
                    ("Only when the manager approves each time.", False),
                ],
            ),
        ],
    },
    "one-brand": {
        "title": "One brand, every touchpoint",
        "summary": "Keeping prices, promises and tone the same in store and online, and making "
        "the store a place people want to visit.",
        "modules": [
            {
                "title": "The same promise everywhere",
                "illustration": "brand",
                "body": """A customer who sees one price online and another on the shelf stops trusting both. The same goes for delivery promises, return rules and the way we speak to people.

Aisle keeps one price per product across the network, taxes included. If a ticket on the floor disagrees with the tablet, the tablet is right: apologise, sell at the correct price and report the ticket so it is fixed.""",
            },
            {
                "title": "The store as an experience",
                "illustration": "journey",
                "body": """People can buy almost anything online. They come to a store for what a screen cannot give: touching the fabric, trying the fit, a second opinion, an idea they had not thought of.

Make the visit worth it. Show how pieces go together, suggest the next step in an outfit or a room, and run the small events your store plans: launches, styling hours, workshops. Each one continues the story the brand tells online and on social media.""",
            },
            {
                "title": "Fixing a mismatch on the spot",
                "illustration": "tablet",
                "body": """When something does not match, such as a promotion the customer saw online that the store does not know about, do not send them away. Check it on the tablet, honour what the brand promised, and tell your manager so the next customer does not meet the same problem.

A small fix made kindly often builds more loyalty than a smooth visit.""",
            },
        ],
        "quiz": [
            (
                "single",
                "The shelf ticket says 49.90, the tablet says 45.00. What do you do?",
                [
                    ("Sell at 45.00, apologise and report the wrong ticket.", True),
                    ("Sell at 49.90 because the ticket is on the shelf.", False),
                    ("Ask the customer to buy online instead.", False),
                ],
            ),
            (
                "multiple",
                "Which make a store visit worth it compared with buying online? "
                "(Choose all that apply.)",
                [
                    ("Trying the fit and feeling the material.", True),
                    ("Advice on what goes together.", True),
                    ("A different price from the web shop.", False),
                ],
            ),
            (
                "single",
                "A customer shows you an online promotion the store has not heard of. "
                "What is the best first step?",
                [
                    ("Check it on the tablet and honour what the brand promised.", True),
                    ("Tell them promotions online do not apply in stores.", False),
                    ("Ask them to come back another day.", False),
                ],
            ),
            (
                "single",
                "Why does a consistent tone and promise matter across channels?",
                [
                    ("Customers see one brand and lose trust when channels disagree.", True),
                    ("It lets each channel set its own prices.", False),
                    ("It only matters for the web shop.", False),
                ],
            ),
        ],
    },
    "connected-store-tools": {
        "title": "Tools of the connected store",
        "summary": "The tablet, the kiosk and messages: the everyday tools of Aisle, and how "
        "to help customers use them.",
        "modules": [
            {
                "title": "Your tablet",
                "illustration": "tablet",
                "body": """The tablet is your counter, your stockroom view and your customer notebook in one. From the home screen you can find a customer, check what is due today, pick pickup orders and follow your training.

Everything you do is recorded under your name. Sign out when you hand the tablet to someone else, and never share your password.""",
            },
            {
                "title": "The kiosk",
                "illustration": "aisle",
                "body": """The store kiosk lets customers look a product up, see where it is available, reserve it to collect, check in for a pickup and start a return, without waiting for you.

Show first-time users how it works, then let them explore. The kiosk never shows personal data beyond what the customer proves, so it is safe to leave them alone with it.""",
            },
            {
                "title": "When the shelf is empty",
                "illustration": "aisle",
                "body": """An empty shelf is not the end of a sale. The tablet shows stock in every store, the distribution centre and our suppliers. Look it up before you say no.

If another location has it, you can offer delivery home or pickup here. The course on endless-aisle selling goes further; for now, remember to check the network first.""",
            },
        ],
        "quiz": [
            (
                "single",
                "You hand your tablet to a colleague at the end of your shift. What do you do?",
                [
                    ("Sign out first, so their actions are not recorded under your name.", True),
                    ("Leave it signed in to save time.", False),
                    ("Tell them your password.", False),
                ],
            ),
            (
                "multiple",
                "What can customers do on the store kiosk? (Choose all that apply.)",
                [
                    ("See where a product is available.", True),
                    ("Check in for a pickup.", True),
                    ("Read other customers' profiles.", False),
                ],
            ),
            (
                "single",
                "A customer's size is not on the shelf. What is your first step?",
                [
                    ("Check the network's stock on the tablet.", True),
                    ("Tell them it is sold out.", False),
                    ("Suggest another brand's shop.", False),
                ],
            ),
            (
                "single",
                "Whose name is recorded for what you do on the tablet?",
                [
                    ("The person signed in.", True),
                    ("The store manager's.", False),
                    ("Nobody's.", False),
                ],
            ),
        ],
    },
    "numbers-that-matter": {
        "title": "Numbers that matter",
        "summary": "Which figures show how the store serves customers across channels, and "
        "how to read the store's dashboard each week.",
        "modules": [
            {
                "title": "Beyond the till total",
                "illustration": "dashboard",
                "body": """Till sales tell you what was paid in the store today. They miss the customer you helped who ordered online tonight, the pickup that brought someone in, and the return that turned into an exchange.

Cross-channel figures fill the gap: customer lifetime value (what a customer spends with us over time, in every channel), cross-channel conversion (how many store visits lead to a purchase anywhere), pickup on time, and return-to-exchange rate.""",
            },
            {
                "title": "Reading the weekly dashboard",
                "illustration": "dashboard",
                "body": """Read the dashboard in three steps. First, what moved compared with last week and the same week last year? Second, is the change real or one big order? Third, what could explain it: weather, a promotion, a missing size, a new starter?

Write one sentence about each change that matters. Numbers are only useful when someone decides what to do about them.""",
            },
            {
                "title": "Good data starts with you",
                "illustration": "privacy",
                "body": """Figures are only as good as what is recorded. A customer found instead of created twice, an order marked collected when it is collected, a return given its real reason: each keeps the data true.

Data about people also brings duties. Record only what is needed, and never copy customer details onto paper or personal phones.""",
            },
        ],
        "quiz": [
            (
                "single",
                "What does customer lifetime value measure?",
                [
                    ("What a customer spends with us over time, in every channel.", True),
                    ("Today's till total.", False),
                    ("How long a customer stays in the store.", False),
                ],
            ),
            (
                "single",
                "Pickup-on-time dropped sharply this week. What is the sensible first question?",
                [
                    ("Is the change real, and what could explain it?", True),
                    ("Which colleague is to blame?", False),
                    ("Can we stop measuring it?", False),
                ],
            ),
            (
                "multiple",
                "Which habits keep the store's data true? (Choose all that apply.)",
                [
                    ("Finding an existing customer instead of creating a duplicate.", True),
                    ("Giving a return its real reason.", True),
                    ("Writing customer details on paper for later.", False),
                ],
            ),
            (
                "single",
                "Why are till sales alone not enough in an omnichannel store?",
                [
                    (
                        "They miss sales the store helped with that were paid in other channels.",
                        True,
                    ),
                    ("They include too many customers.", False),
                    ("They are calculated by HQ.", False),
                ],
            ),
        ],
    },
    "coaching-the-team": {
        "title": "Coaching an omnichannel team",
        "summary": "For managers: assessing skills fairly, closing gaps with the right courses, "
        "crediting cross-channel sales and keeping good people.",
        "modules": [
            {
                "title": "Assess with the person, not about them",
                "illustration": "coaching",
                "body": """Every associate records a self-assessment. Before you record yours, sit down together and compare: where do you agree, where do you see it differently, and what did you each see that made you think so?

Assess what people do, using the level descriptions: an expert can explain why, a coach can teach others. A level is never overwritten; the history shows progress, so be honest rather than generous.""",
            },
            {
                "title": "Closing gaps",
                "illustration": "dashboard",
                "body": """The team view shows who meets each requirement and who is overdue. Pick one or two gaps per person at a time and assign a course with a realistic due date; a long list of courses helps nobody.

Some gaps are about practice, not knowledge. Pair a newer associate with someone at expert level for a few shifts, then assess again.""",
            },
            {
                "title": "Credit and retention",
                "illustration": "coaching",
                "body": """When an associate helps a customer who buys online later, that sale should count for them. If people feel their help goes unseen, they stop helping, or they leave.

People stay where they grow. Talk about the next level, celebrate certificates, and give experienced staff the chance to coach. A team that learns together keeps its best people.""",
            },
        ],
        "quiz": [
            (
                "single",
                "An associate rates themselves higher than you would. What do you do first?",
                [
                    ("Compare views together and talk about what each of you saw.", True),
                    ("Record your level without discussing it.", False),
                    ("Delete their self-assessment.", False),
                ],
            ),
            (
                "single",
                "Someone has gaps in five skills. What is the best plan?",
                [
                    ("Start with one or two, with courses and realistic due dates.", True),
                    ("Assign every course at once, due this week.", False),
                    ("Wait until the next annual review.", False),
                ],
            ),
            (
                "multiple",
                "Which help keep good people? (Choose all that apply.)",
                [
                    ("Crediting help that led to an online sale.", True),
                    ("Giving experienced staff the chance to coach.", True),
                    ("Keeping levels low so people try harder.", False),
                ],
            ),
            (
                "single",
                "What marks the coach level (4) of a skill?",
                [
                    ("Being able to teach the skill to others.", True),
                    ("Having worked in the store for four years.", False),
                    ("Having passed four quizzes.", False),
                ],
            ),
        ],
    },
    "clienteling-with-consent": {
        "title": "Clienteling with consent",
        "summary": "Using a customer's profile, history and notes to give personal advice, and "
        "reaching out only to customers who asked for it.",
        "modules": [
            {
                "title": "The profile is a trust",
                "illustration": "privacy",
                "body": """A customer profile gathers what someone bought in every channel, their sizes, their preferences and, if they agreed, what they browsed online. It lets you advise them like a regular, even on their first visit to your store.

Every time you open a profile, Aisle records who looked and when. Open a profile only to serve that customer, never out of curiosity, and never show it to another customer.""",
            },
            {
                "title": "Consent comes first",
                "illustration": "privacy",
                "body": """Customers decide two things separately: whether their browsing may be tracked, and whether we may send them marketing. Both are shown on the profile with the date they were given or withdrawn.

Only send outreach, such as "your size is back" or an invitation to an event, to customers with marketing consent. If a customer asks to stop, tell them how and respect it at once. A customer may also ask what we hold about them: tell your manager, who starts the export.""",
            },
            {
                "title": "Notes that help",
                "illustration": "tablet",
                "body": """A good note helps the next colleague: "prefers natural fibres, size 40 in trousers, looking for a wedding outfit in June". A bad note judges the person or records things they did not choose to share, such as health or money troubles.

Write every note as if the customer could read it, because they can ask to.""",
            },
        ],
        "quiz": [
            (
                "single",
                "When may you open a customer's profile?",
                [
                    ("To serve that customer; every view is recorded.", True),
                    ("Whenever you are curious about a customer.", False),
                    ("Only when the manager is present.", False),
                ],
            ),
            (
                "single",
                "Which customers may receive an outreach message about new arrivals?",
                [
                    ("Those with marketing consent.", True),
                    ("Everyone with an e-mail address.", False),
                    ("Everyone who bought in the last year.", False),
                ],
            ),
            (
                "multiple",
                "Which are good notes on a profile? (Choose all that apply.)",
                [
                    ("Size 40 in trousers, prefers natural fibres.", True),
                    ("Looking for a wedding outfit in June.", True),
                    ("Seems short of money lately.", False),
                ],
            ),
            (
                "single",
                "A customer asks what data we hold about them. What do you do?",
                [
                    ("Tell your manager, who starts the export for them.", True),
                    ("Read out their profile on the shop floor.", False),
                    ("Tell them we hold nothing.", False),
                ],
            ),
        ],
    },
    "endless-aisle": {
        "title": "Selling the endless aisle",
        "summary": "Turning an empty shelf into a sale: network stock, delivery or pickup, and "
        "a promise the customer can rely on.",
        "modules": [
            {
                "title": "The whole network is your shelf",
                "illustration": "aisle",
                "body": """The store holds only part of the range, and popular sizes run out. Yet the network (other stores, the distribution centre and drop-ship suppliers) often has what the customer wants.

On the tablet, look the product up and see what is available where, and by when it could reach the customer. Available means what can really be promised: stock that is reserved for other orders or kept as safety stock is not counted.""",
            },
            {
                "title": "Placing the order",
                "illustration": "tablet",
                "body": """Offer the choice: delivery home or pickup in this store. Confirm the customer's details, the size and colour, and the date the tablet shows. Take payment as for any sale.

Tell the customer what happens next: they will get a message when it ships or is ready, and the pickup order is held for them for a set number of days.""",
            },
            {
                "title": "A promise that holds",
                "illustration": "journey",
                "body": """Never promise a faster date than the tablet shows. A customer who waits one day more than promised remembers it longer than the sale.

If the customer hesitates, a reservation or a message when stock arrives keeps the sale alive without pressure.""",
            },
        ],
        "quiz": [
            (
                "single",
                "A size is out of stock in your store. Where can an endless-aisle order come from?",
                [
                    ("Other stores, the distribution centre or a drop-ship supplier.", True),
                    ("Only from your own stockroom.", False),
                    ("From a competitor's shop.", False),
                ],
            ),
            (
                "single",
                "The tablet says the item can reach the customer on Thursday. What do you promise?",
                [
                    ("Thursday, as the tablet shows.", True),
                    ("Tomorrow, to win the sale.", False),
                    ("No date at all.", False),
                ],
            ),
            (
                "multiple",
                "Which stock is NOT counted as available to promise? (Choose all that apply.)",
                [
                    ("Units reserved for other customers' orders.", True),
                    ("Safety stock.", True),
                    ("Free units at the distribution centre.", False),
                ],
            ),
            (
                "single",
                "What does the customer hear after placing the order?",
                [
                    ("They will be told when it ships or is ready to collect.", True),
                    ("Nothing until it arrives.", False),
                    ("They must call the store every day.", False),
                ],
            ),
        ],
    },
    "pickup-done-right": {
        "title": "Pickup in store, done right",
        "summary": "Buy online, pick up in store: picking, getting orders ready on time, and "
        "handing them over to the right person.",
        "modules": [
            {
                "title": "From order to ready",
                "illustration": "pickup",
                "body": """A pickup order moves through clear steps: reserved, picking, ready, collected. When one arrives, pick it promptly, check each item for size, colour and condition, pack it and mark it ready. The customer is told at once.

If an item is missing or damaged, do not mark the order ready. Record what is short so the system can source it elsewhere or tell the customer.""",
            },
            {
                "title": "The pickup area",
                "illustration": "pickup",
                "body": """Keep ready orders in the pickup area, in order, with the label facing out. Check the list each morning: orders not collected within the hold period expire, their stock goes back on sale and the customer is refunded.

A customer who checks in at the kiosk or on their phone should be served within minutes. Have their parcel found before they reach the counter.""",
            },
            {
                "title": "Handing over to the right person",
                "illustration": "privacy",
                "body": """Hand the parcel over against the pickup code the customer received. The code proves they are entitled to it.

When a customer has lost the code, you may hand over after checking an official photo ID against the name on the order, but only if you are certified for it. Record that you checked the ID. If anything does not match, do not hand over: ask your manager.""",
            },
        ],
        "quiz": [
            (
                "single",
                "What are the states of a pickup order, in order?",
                [
                    ("Reserved, picking, ready, collected.", True),
                    ("Ready, picking, reserved, collected.", False),
                    ("Collected, ready, picking, reserved.", False),
                ],
            ),
            (
                "single",
                "While picking, one item is damaged. What do you do?",
                [
                    ("Do not mark the order ready; record the missing item.", True),
                    ("Mark it ready and explain at the counter.", False),
                    ("Swap in a different size without asking.", False),
                ],
            ),
            (
                "multiple",
                "A customer lost their pickup code. Which are correct? (Choose all that apply.)",
                [
                    ("A certified associate may hand over after checking photo ID.", True),
                    ("The ID check is recorded.", True),
                    ("Anyone may hand it over if the customer knows the order number.", False),
                ],
            ),
            (
                "single",
                "What happens to an order not collected within the hold period?",
                [
                    ("It expires: the stock is released and the customer refunded.", True),
                    ("It is kept in the store for ever.", False),
                    ("It is sent to the customer's home at their cost.", False),
                ],
            ),
        ],
    },
    "returns-any-store": {
        "title": "Returns from any channel",
        "summary": "Buy online, return in store: taking returns from every channel, refunding "
        "correctly, deciding what happens to the item and noticing fraud.",
        "modules": [
            {
                "title": "Any order, any store",
                "illustration": "returns",
                "body": """Customers may return an order from any channel (web, app, another store) in any of our stores. Find the order on the tablet, choose the lines coming back and the reason.

The refund goes back to how the customer paid, and never exceeds what they paid for those units. Final-sale items cannot be returned; the tablet tells you.""",
            },
            {
                "title": "What happens to the item",
                "illustration": "returns",
                "body": """Check the item. If it is as new, it goes back to stock here and can be sold at once. If it is damaged, mark it for the distribution centre or for write-off.

Every choice moves stock through the ledger, so the figures stay true. An exchange is often better for everyone than a refund: offer it when a size or colour is the problem.""",
            },
            {
                "title": "Noticing fraud",
                "illustration": "privacy",
                "body": """Most returns are honest. A few patterns deserve attention: the same customer returning worn items again and again, items swapped for cheaper ones, receipts that do not match the order.

Aisle shows fraud signals on the return screen. Do not accuse anyone: follow the screen's guidance and involve your manager when a return looks wrong.""",
            },
        ],
        "quiz": [
            (
                "single",
                "A customer brings back a web order to your store. What do you do?",
                [
                    ("Take the return: any store takes orders from any channel.", True),
                    ("Send them to the web shop.", False),
                    ("Only give store credit.", False),
                ],
            ),
            (
                "single",
                "How much may the refund be?",
                [
                    ("At most what was paid for the returned units.", True),
                    ("The current shelf price.", False),
                    ("Whatever the customer asks.", False),
                ],
            ),
            (
                "multiple",
                "Which are signs worth attention? (Choose all that apply.)",
                [
                    ("Worn items returned again and again by the same customer.", True),
                    ("An item swapped for a cheaper one.", True),
                    ("A customer returning one item in its packaging.", False),
                ],
            ),
            (
                "single",
                "A returned item is as new. Where does it go?",
                [
                    ("Back to stock in this store, through the ledger.", True),
                    ("In the bin.", False),
                    ("Home with the associate.", False),
                ],
            ),
        ],
    },
}
