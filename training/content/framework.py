"""The program's skill framework, role requirements and gated operations. The
courses are data files in `courses/` (read by `files.py`);
`training.services.content_sync()` writes all of it to the database.

Written for Aisle from the domain: what an omnichannel store asks of the people
who work in it.
"""

from __future__ import annotations

# (code, English name, Chinese name)
AREAS = [
    ("customer", "Cross-channel customer behaviour", "跨渠道顾客行为"),
    ("brand", "Cohesive brand experience", "一致的品牌体验"),
    ("technology", "Emerging retail technology", "新兴零售技术"),
    ("data", "Data and analytics", "数据与分析"),
    ("people", "People development (managers)", "人才培养（店长）"),
    ("operations", "Store operations", "门店运营"),
]

# area code -> [(code, name, name_zh, description, description_zh, {level: (en, zh)})]
SKILLS = {
    "customer": [
        (
            "cross_channel_behaviour",
            "Reading cross-channel journeys",
            "解读跨渠道购物旅程",
            "Understands how customers move between the web, the app, social media and "
            "the store, and uses it to serve them.",
            "理解顾客如何在网站、应用、社交媒体和门店之间来回切换，并据此服务顾客。",
            {
                1: (
                    "Knows that customers research online and buy in store, and the reverse.",
                    "知道顾客会先在网上了解再到店购买，也会反过来。",
                ),
                2: (
                    "Reads a customer's recent browsing on the tablet and picks up the "
                    "conversation where the customer left it.",
                    "能在平板上查看顾客近期的浏览记录，并从顾客停下的地方接着聊。",
                ),
                3: (
                    "Spots patterns across many customers (showrooming, webrooming) and "
                    "adapts how the store sells.",
                    "能从众多顾客身上发现规律（先看后买、先查后买），并调整门店的销售方式。",
                ),
                4: (
                    "Teaches colleagues to read journeys and shapes the store's service "
                    "around them.",
                    "能教同事解读购物旅程，并围绕它设计门店的服务。",
                ),
            },
        ),
    ],
    "brand": [
        (
            "brand_experience",
            "One brand experience",
            "统一的品牌体验",
            "Gives the same promise, prices and tone in store as online, and makes the "
            "store a place worth visiting.",
            "在门店给出与线上一致的承诺、价格和语气，让门店成为值得一去的地方。",
            {
                1: (
                    "Knows the brand's promise and where to check online prices and offers.",
                    "了解品牌承诺，知道在哪里核对线上价格和优惠。",
                ),
                2: (
                    "Keeps what the customer hears in store consistent with what they saw "
                    "online, and fixes a mismatch on the spot.",
                    "确保顾客在店里听到的与线上看到的一致，发现不一致时当场解决。",
                ),
                3: (
                    "Runs in-store moments (launches, styling sessions, events) that "
                    "continue the online story.",
                    "能组织店内活动（新品发布、搭配讲解、社群活动），延续线上的品牌故事。",
                ),
                4: (
                    "Coaches the team on the brand experience and feeds back to HQ what "
                    "customers notice.",
                    "能就品牌体验辅导团队，并把顾客的感受反馈给总部。",
                ),
            },
        ),
    ],
    "technology": [
        (
            "retail_technology",
            "Store technology",
            "门店技术",
            "Uses the tablet, the kiosk and messaging confidently, and helps customers use them.",
            "熟练使用平板、自助终端和消息工具，并能帮助顾客使用。",
            {
                1: (
                    "Signs in to the tablet and finds a customer or a product.",
                    "能登录平板，查找顾客或商品。",
                ),
                2: (
                    "Uses every tablet screen in daily work and shows customers the kiosk.",
                    "在日常工作中使用平板的各个页面，并能为顾客演示自助终端。",
                ),
                3: (
                    "Solves colleagues' problems with the tools and suggests improvements.",
                    "能解决同事使用工具时遇到的问题，并提出改进建议。",
                ),
                4: (
                    "Introduces new tools to the store and trains others on them.",
                    "能把新工具引入门店并培训他人。",
                ),
            },
        ),
    ],
    "data": [
        (
            "data_analytics",
            "Reading store data",
            "解读门店数据",
            "Reads the store's figures, including cross-channel ones, and turns them into actions.",
            "能读懂门店的各项数据（包括跨渠道数据），并转化为行动。",
            {
                1: (
                    "Knows which figures the store is measured on.",
                    "知道门店以哪些指标衡量。",
                ),
                2: (
                    "Reads the store's dashboard and explains what changed this week.",
                    "能看懂门店看板，说明本周发生了哪些变化。",
                ),
                3: (
                    "Finds the cause behind a figure and agrees an action with the team.",
                    "能找出数字背后的原因，并与团队商定行动。",
                ),
                4: (
                    "Builds the store's plan on data and teaches others to do the same.",
                    "能基于数据制定门店计划，并教会他人这样做。",
                ),
            },
        ),
    ],
    "people": [
        (
            "people_development",
            "Developing people",
            "培养员工",
            "Recruits, develops and keeps good people: coaching, feedback, fair credit for "
            "cross-channel sales.",
            "招聘、培养并留住优秀员工：辅导、反馈，并公平认可跨渠道销售的贡献。",
            {
                1: (
                    "Knows the store's onboarding path and who to ask for help.",
                    "了解门店的入职培训路径，知道向谁求助。",
                ),
                2: (
                    "Welcomes new starters and shows them the ropes.",
                    "能带新员工熟悉工作。",
                ),
                3: (
                    "Runs regular coaching talks, assesses skills fairly and closes gaps "
                    "with the right courses.",
                    "能定期进行辅导谈话，公正评估技能，并用合适的课程弥补差距。",
                ),
                4: (
                    "Grows future managers and keeps staff turnover low.",
                    "能培养未来的店长，并保持较低的员工流失率。",
                ),
            },
        ),
    ],
    "operations": [
        (
            "clienteling_privacy",
            "Clienteling and privacy",
            "顾客经营与隐私",
            "Builds relationships with customers using their profile and history, within "
            "their consent.",
            "在顾客同意的范围内，利用顾客档案和历史记录建立长期关系。",
            {
                1: (
                    "Knows that every profile view is logged and consent comes first.",
                    "知道每次查看顾客档案都会被记录，且同意优先。",
                ),
                2: (
                    "Uses the profile and notes for personal advice, and sends outreach only "
                    "to customers who agreed to it.",
                    "能利用档案和备注提供个性化建议，只向同意接收的顾客发送联络信息。",
                ),
                3: (
                    "Keeps a book of regular customers and handles privacy questions.",
                    "能维护一批常客，并处理有关隐私的问题。",
                ),
                4: (
                    "Coaches the team on clienteling and on handling personal data.",
                    "能就顾客经营和个人数据处理辅导团队。",
                ),
            },
        ),
        (
            "endless_aisle",
            "Endless-aisle selling",
            "无限货架销售",
            "Sells what is not on the shelf from the whole network and promises a delivery "
            "or pickup date that holds.",
            "能从整个网络销售店内缺货的商品，并承诺可兑现的送货或自提日期。",
            {
                1: (
                    "Checks network availability for a customer before saying no.",
                    "在对顾客说“没有”之前，先查看全网库存。",
                ),
                2: (
                    "Places a delivery or pickup order for an item the store does not have.",
                    "能为门店没有的商品下送货或自提订单。",
                ),
                3: (
                    "Turns out-of-stock moments into sales as a habit and helps others do so.",
                    "习惯把缺货时刻转化为销售，并帮助他人做到。",
                ),
                4: (
                    "Coaches the team and reports recurring gaps in the range to HQ.",
                    "能辅导团队，并向总部反馈商品组合中反复出现的缺口。",
                ),
            },
        ),
        (
            "bopis_fulfilment",
            "Pickup and store fulfilment",
            "自提与门店履约",
            "Picks, prepares and hands over online orders in store (BOPIS), on time and to "
            "the right person.",
            "能在门店按时拣货、备货，并把线上订单交给正确的人（线上下单、门店自提）。",
            {
                1: (
                    "Knows the pickup states and where ready orders are kept.",
                    "了解自提订单的各个状态，知道备好的订单放在哪里。",
                ),
                2: (
                    "Picks and hands over orders, checks the code or the customer's ID, and "
                    "handles missing items.",
                    "能拣货和交付订单，核对取货码或顾客证件，并处理缺货商品。",
                ),
                3: (
                    "Organises the pickup area and the day's picking so nothing expires.",
                    "能规划自提区域和当天的拣货工作，不让订单过期。",
                ),
                4: (
                    "Trains others and improves the store's fulfilment process.",
                    "能培训他人并改进门店的履约流程。",
                ),
            },
        ),
        (
            "returns_fraud",
            "Returns and fraud",
            "退货与欺诈防范",
            "Takes back orders from any channel (BORIS), refunds correctly and notices "
            "signs of fraud.",
            "能受理任何渠道的订单退货（线上购买、门店退货），正确退款，并留意欺诈迹象。",
            {
                1: (
                    "Knows that any store takes returns of online orders.",
                    "知道任何门店都可以受理线上订单的退货。",
                ),
                2: (
                    "Takes a return, refunds the right amount and decides what happens to "
                    "the item.",
                    "能受理退货、退还正确金额，并决定商品的去向。",
                ),
                3: (
                    "Recognises suspicious return patterns and escalates them.",
                    "能识别可疑的退货模式并上报。",
                ),
                4: (
                    "Coaches others and helps HQ shape the return policy.",
                    "能辅导他人，并协助总部完善退货政策。",
                ),
            },
        ),
    ],
}

# skill -> (associate, store manager): the network-wide requirements.
REQUIREMENTS = {
    "cross_channel_behaviour": (2, 3),
    "brand_experience": (2, 3),
    "retail_technology": (2, 2),
    "data_analytics": (1, 3),
    "people_development": (0, 3),
    "clienteling_privacy": (2, 3),
    "endless_aisle": (2, 2),
    "bopis_fulfilment": (2, 3),
    "returns_fraud": (1, 2),
}
# The flagship asks more of its associates: (store code, role, skill, level).
STORE_REQUIREMENTS = [("S01", "associate", "brand_experience", 3)]

# The operations other screens ask `operation_allowed` about.
OPERATION_RULES = [
    ("outreach_send", "clienteling_privacy", 2),
    ("aisle_delivery_order", "endless_aisle", 1),
    ("handover_without_code", "bopis_fulfilment", 2),
    ("return_approve", "returns_fraud", 2),
]
