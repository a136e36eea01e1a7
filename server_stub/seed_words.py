"""Word lists for the demo store: product families, brands, suppliers, people.

Kept apart from `seed` so the generator reads as rules and this file reads as data. Every list is a
tuple so its order, and therefore the generated store, never depends on hashing.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Product(NamedTuple):
    """A product noun, the unit its size is given in, and the sizes it comes in."""

    noun: str
    unit: str
    sizes: tuple[str, ...]


class Family(NamedTuple):
    """A department: the adjectives that describe its products, and the products themselves.

    `case_packs` are the units per case a supplier ships this family in.
    """

    name: str
    adjectives: tuple[str, ...]
    products: tuple[Product, ...]
    case_packs: tuple[int, ...]


COLOURS: Final = ("white", "black", "blue", "red", "green", "grey", "yellow", "navy", "sage", "terracotta",
                  "cream", "charcoal")

FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        "kitchen",
        tuple(f"{c} {m}" for c in COLOURS for m in ("ceramic", "stoneware", "porcelain", "enamel", "glass")),
        (
            Product("mug", "ml", ("250", "300", "350", "400")),
            Product("bowl", "cm", ("12", "15", "18")),
            Product("dinner plate", "cm", ("24", "27")),
            Product("side plate", "cm", ("18", "20")),
            Product("teapot", "l", ("0.8", "1.2")),
            Product("storage jar", "l", ("0.5", "1", "1.5", "2")),
            Product("serving dish", "cm", ("25", "30")),
        ),
        (4, 6, 12),
    ),
    Family(
        "cookware",
        ("stainless steel", "non-stick", "cast iron", "carbon steel", "copper base", "hard-anodised"),
        (
            Product("frying pan", "cm", ("20", "24", "28")),
            Product("saucepan", "cm", ("16", "18", "20")),
            Product("stock pot", "l", ("5", "8")),
            Product("wok", "cm", ("28", "32")),
            Product("roasting tin", "cm", ("32", "38")),
        ),
        (2, 4, 6),
    ),
    Family(
        "grocery",
        ("organic", "wholegrain", "classic", "reduced sugar", "gluten free", "family size", "value",
         "fairtrade", "lightly salted", "extra mature"),
        (
            Product("rolled oats", "g", ("500", "1000")),
            Product("basmati rice", "kg", ("1", "2", "5")),
            Product("penne pasta", "g", ("500", "1000")),
            Product("peanut butter", "g", ("340", "500")),
            Product("strawberry jam", "g", ("340", "454")),
            Product("ground coffee", "g", ("227", "500")),
            Product("black tea bags", "pcs", ("40", "80", "160")),
            Product("tomato passata", "g", ("500", "690")),
            Product("chickpeas", "g", ("400",)),
            Product("olive oil", "l", ("0.5", "0.75", "1")),
            Product("muesli", "g", ("750",)),
            Product("cheddar crackers", "g", ("150", "200")),
        ),
        (6, 8, 12, 24),
    ),
    Family(
        "drinks",
        ("still", "sparkling", "lemon", "orange", "apple", "cherry", "zero sugar", "ginger", "elderflower"),
        (
            Product("mineral water", "l", ("0.5", "1.5")),
            Product("soft drink can", "ml", ("330",)),
            Product("juice carton", "l", ("1",)),
            Product("iced tea", "l", ("0.5", "1.5")),
            Product("cordial", "ml", ("500", "750")),
        ),
        (6, 12, 24),
    ),
    Family(
        "hardware",
        ("zinc plated", "stainless", "brass", "black oxide", "galvanised", "heavy duty"),
        (
            Product("wood screws 4x40 mm", "pcs", ("50", "100", "200")),
            Product("wall plugs 6 mm", "pcs", ("50", "100")),
            Product("hinge 75 mm", "pcs", ("2", "4")),
            Product("cable ties 200 mm", "pcs", ("100",)),
            Product("picture hooks", "pcs", ("10", "20")),
            Product("padlock 40 mm", "pack", ("1", "2")),
            Product("shelf bracket 200 mm", "pack", ("2", "4")),
        ),
        (10, 12, 20, 25),
    ),
    Family(
        "stationery",
        COLOURS,
        (
            Product("A5 notebook", "pages", ("80", "120", "192")),
            Product("gel pens", "pcs", ("4", "10")),
            Product("sticky notes 76x76 mm", "pcs", ("100", "400")),
            Product("ring binder A4", "mm", ("40", "65")),
            Product("highlighters", "pcs", ("4", "6")),
            Product("envelopes C5", "pcs", ("25", "50")),
        ),
        (6, 10, 12, 24),
    ),
    Family(
        "household",
        ("lavender", "lemon", "unscented", "fresh linen", "eucalyptus", "ocean", "bio", "sensitive"),
        (
            Product("washing-up liquid", "ml", ("450", "900")),
            Product("laundry capsules", "pcs", ("24", "48")),
            Product("surface spray", "ml", ("500", "750")),
            Product("kitchen roll", "rolls", ("2", "4", "6")),
            Product("bin bags 30 l", "pcs", ("20", "40")),
            Product("toilet cleaner", "ml", ("750",)),
        ),
        (4, 6, 8, 12),
    ),
    Family(
        "personal care",
        ("sensitive", "aloe vera", "coconut", "mint", "charcoal", "unscented", "argan", "tea tree"),
        (
            Product("shower gel", "ml", ("250", "500")),
            Product("shampoo", "ml", ("250", "400")),
            Product("toothpaste", "ml", ("75", "100")),
            Product("hand soap", "ml", ("250", "500")),
            Product("deodorant", "ml", ("150", "250")),
            Product("cotton pads", "pcs", ("80", "120")),
        ),
        (6, 12, 24),
    ),
    Family(
        "toys",
        COLOURS,
        (
            Product("building bricks set", "pcs", ("120", "300", "650")),
            Product("jigsaw puzzle", "pcs", ("500", "1000")),
            Product("plush bear", "cm", ("25", "40")),
            Product("toy car", "cm", ("10", "20")),
            Product("modelling clay", "g", ("250", "500")),
        ),
        (2, 4, 6),
    ),
)

BRANDS: Final = ("Halden", "Norvik", "Brightmoor", "Calloway", "Dunmore", "Elmstead", "Fjordline", "Greystone",
                 "Harbourside", "Ivywell", "Juniper & Co", "Kestrel", "Larkfield", "Millbrook", "Northgate",
                 "Oakhurst", "Pebblebay", "Quayside", "Redfern", "Silverleaf", "Thornbury", "Underhill",
                 "Valeview", "Westcombe", "Yarrow", "Zephyr")

SUPPLIER_STEMS: Final = ("Alder", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Heron", "Iris",
                         "Jasper", "Kingfisher", "Linden", "Maple", "Nimbus", "Orchard", "Pioneer", "Quarry",
                         "Riverside", "Summit", "Tidewater", "Upland", "Vanguard", "Willow", "Yew")

SUPPLIER_TRADES: Final = ("Homewares", "Foods", "Trading", "Distribution", "Supplies", "Brands", "Wholesale",
                          "Imports")

SUPPLIER_FORMS: Final = ("Ltd", "GmbH", "B.V.", "AB", "Inc.", "S.A.", "Sp. z o.o.")

FIRST_NAMES: Final = ("Aisha", "Bruno", "Carmen", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
                      "Kofi", "Lena", "Mateo", "Nadia", "Oliver", "Priya", "Quentin", "Rosa", "Samir",
                      "Tamsin", "Uma", "Viktor", "Wen", "Yusuf", "Zoe")

LAST_NAMES: Final = ("Abbott", "Bergström", "Castillo", "Dubois", "Eze", "Fischer", "García", "Hughes",
                     "Ivanova", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Brien",
                     "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Novak", "Varga", "Walsh",
                     "Yilmaz", "Zielinski")
