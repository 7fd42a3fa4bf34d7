"""Reference data of the pools: names, regions, products and integrations, as named tuples."""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    """A city of a region, with the pattern of its postal codes ('#' = a digit)."""

    name: str
    state: str
    postal: str
    lat: float
    lng: float
    timezone: str


class Region(NamedTuple):
    """A country partners live in: currency, phone and tax formats, places and company names."""

    country: str
    weight: float
    currency: str
    decimals: int
    phone_prefix: str
    phone_digits: int
    vat_prefix: str
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    companies: tuple[str, ...]
    suffixes: tuple[str, ...]


class OrgName(NamedTuple):
    """A name the simulated organization (the Stuut customer) may have, and its domain."""

    name: str
    domain: str


class TagDef(NamedTuple):
    """A partner tag of the organization."""

    name: str
    color: str


class Product(NamedTuple):
    """An invoice line item: unit price in minor units and the most units one line bills."""

    name: str
    type: str
    unit_amount: int
    max_quantity: int


class IntegrationDef(NamedTuple):
    """An ERP / accounting integration the organization links."""

    name: str
    display_name: str
    api_base_url: str  # "{sub}" is replaced by the account's subdomain
    requires_subdomain: bool
    category: str
    color: str


GIVEN_NAMES = (
    "Zoë", "Jürgen", "José", "Amélie", "Søren", "Ingrid", "Łukasz", "Chloé", "Mateo", "Priya",
    "Hiroshi", "Yuki", "Olivia", "Liam", "Noah", "Emma", "Björn", "Ana", "François", "Siobhán",
    "Dmitri", "Aisha", "Wei", "Carlos", "Maëlle", "Renée", "Tomás", "Kateřina", "Grace", "Daniel",
    "Sophia", "Marcus", "Fatima", "Lars", "Inès", "Oğuz",
)  # fmt: skip
FAMILY_NAMES = (
    "Müller", "Ødegaard", "Núñez", "Dubois", "Kowalski", "Nakamura", "Smith", "Johnson", "García",
    "Schröder", "Lindqvist", "O'Brien", "Rossi", "Fernández", "Novák", "Yamada", "Brown", "Martín",
    "Østergaard", "Weiß", "Chen", "Patel", "Mbeki", "Lefèvre", "Çelik", "Walker", "Nguyen",
    "Kim", "Hernández", "Jørgensen",
)  # fmt: skip

# (country, weight, currency, decimals, phone prefix, phone digits, vat prefix,
#  cities: (city, state, postal pattern, lat, lng, timezone), streets, company names, suffixes)
REGIONS: tuple[Region, ...] = (
    Region(
        country="US",
        weight=34,
        currency="USD",
        decimals=2,
        phone_prefix="+1",
        phone_digits=10,
        vat_prefix="US",
        cities=(
            City("Austin", "TX", "787##", 30.27, -97.74, "America/Chicago"),
            City("New York", "NY", "100##", 40.71, -74.01, "America/New_York"),
            City("San Francisco", "CA", "941##", 37.77, -122.42, "America/Los_Angeles"),
            City("Chicago", "IL", "606##", 41.88, -87.63, "America/Chicago"),
            City("Denver", "CO", "802##", 39.74, -104.99, "America/Denver"),
        ),
        streets=(
            "Main Street",
            "Congress Avenue",
            "Market Street",
            "Oak Lane",
            "Industrial Parkway",
        ),
        companies=(
            "Acme Industrial Supply",
            "Blue Ridge Logistics",
            "Pinecrest Health Partners",
            "Summit Fabrication",
            "Harborview Foods",
            "Lone Star Packaging",
            "Redwood Analytics",
            "Great Lakes Freight",
            "Cedar & Pine Builders",
            "Northstar Medical Devices",
        ),
        suffixes=("Inc.", "LLC", "Corp."),
    ),
    Region(
        country="DE",
        weight=10,
        currency="EUR",
        decimals=2,
        phone_prefix="+49",
        phone_digits=10,
        vat_prefix="DE",
        cities=(
            City("München", "Bayern", "80###", 48.14, 11.58, "Europe/Berlin"),
            City("Berlin", "Berlin", "10###", 52.52, 13.4, "Europe/Berlin"),
            City("Köln", "Nordrhein-Westfalen", "50###", 50.94, 6.96, "Europe/Berlin"),
        ),
        streets=("Hauptstraße", "Königstraße", "Schloßallee", "Müllerstraße", "Am Güterbahnhof"),
        companies=(
            "Müller Logistik",
            "Schröder Maschinenbau",
            "Weiß & Söhne",
            "Bäckerei König",
            "Nordlicht Elektrotechnik",
        ),
        suffixes=("GmbH", "AG", "KG"),
    ),
    Region(
        country="GB",
        weight=8,
        currency="GBP",
        decimals=2,
        phone_prefix="+44",
        phone_digits=10,
        vat_prefix="GB",
        cities=(
            City("London", "England", "EC#A #BB", 51.51, -0.13, "Europe/London"),
            City("Manchester", "England", "M# #AB", 53.48, -2.24, "Europe/London"),
        ),
        streets=("Baker Street", "High Street", "King's Road", "Deansgate"),
        companies=("Walker & Brown", "Thames Valley Components", "Pennine Outdoor Gear"),
        suffixes=("Ltd", "plc"),
    ),
    Region(
        country="FR",
        weight=7,
        currency="EUR",
        decimals=2,
        phone_prefix="+33",
        phone_digits=9,
        vat_prefix="FR",
        cities=(
            City("Paris", "Île-de-France", "75###", 48.86, 2.35, "Europe/Paris"),
            City("Lyon", "Auvergne-Rhône-Alpes", "69###", 45.76, 4.84, "Europe/Paris"),
        ),
        streets=("Rue de Rivoli", "Avenue des Champs-Élysées", "Rue Saint-Honoré", "Quai de Saône"),
        companies=("Lefèvre Bâtiment", "Boulangeries Dubois", "Société Générale d'Équipement"),
        suffixes=("SARL", "SAS"),
    ),
    Region(
        country="ES",
        weight=7,
        currency="EUR",
        decimals=2,
        phone_prefix="+34",
        phone_digits=9,
        vat_prefix="ES",
        cities=(
            City("Madrid", "Comunidad de Madrid", "28###", 40.42, -3.7, "Europe/Madrid"),
            City("A Coruña", "Galicia", "15###", 43.36, -8.41, "Europe/Madrid"),
        ),
        streets=("Calle Mayor", "Avenida de la Constitución", "Calle de Alcalá", "Rúa Nova"),
        companies=("Núñez y Asociados", "Construcciones Peña", "Logística Ibérica"),
        suffixes=("S.L.", "S.A."),
    ),
    Region(
        country="NO",
        weight=5,
        currency="NOK",
        decimals=2,
        phone_prefix="+47",
        phone_digits=8,
        vat_prefix="NO",
        cities=(
            City("Oslo", "Oslo", "0###", 59.91, 10.75, "Europe/Oslo"),
            City("Tromsø", "Troms", "9###", 69.65, 18.96, "Europe/Oslo"),
        ),
        streets=("Storgata", "Kirkegata", "Sjøgata", "Strandveien"),
        companies=("Ødegaard Shipping", "Fjordkraft Næring", "Tromsø Sjømat"),
        suffixes=("AS", "ASA"),
    ),
    Region(
        country="JP",
        weight=5,
        currency="JPY",
        decimals=0,
        phone_prefix="+81",
        phone_digits=10,
        vat_prefix="JP",
        cities=(
            City("東京都千代田区", "東京都", "100-####", 35.68, 139.76, "Asia/Tokyo"),
            City("大阪市北区", "大阪府", "530-####", 34.7, 135.5, "Asia/Tokyo"),
        ),
        streets=("丸の内1-1-1", "梅田2-4-9", "大手町3-2-1"),
        companies=("株式会社 山田", "株式会社 東和精機", "中村商事株式会社"),
        suffixes=("",),
    ),
    Region(
        country="CA",
        weight=8,
        currency="CAD",
        decimals=2,
        phone_prefix="+1",
        phone_digits=10,
        vat_prefix="CA",
        cities=(
            City("Toronto", "ON", "M5V #A#", 43.65, -79.38, "America/Toronto"),
            City("Montréal", "QC", "H2Y #B#", 45.5, -73.57, "America/Toronto"),
        ),
        streets=("King Street West", "Rue Sainte-Catherine", "Bay Street"),
        companies=("Maple Leaf Fixtures", "Boréal Distribution", "Laurentian Paper"),
        suffixes=("Inc.", "Ltd."),
    ),
    Region(
        country="BR",
        weight=5,
        currency="BRL",
        decimals=2,
        phone_prefix="+55",
        phone_digits=11,
        vat_prefix="BR",
        cities=(City("São Paulo", "SP", "01###-###", -23.55, -46.63, "America/Sao_Paulo"),),
        streets=("Avenida Paulista", "Rua Augusta", "Rua Oscar Freire"),
        companies=("Comércio São João", "Indústria Açaí Norte"),
        suffixes=("Ltda.",),
    ),
    Region(
        country="CH",
        weight=5,
        currency="CHF",
        decimals=2,
        phone_prefix="+41",
        phone_digits=9,
        vat_prefix="CHE",
        cities=(City("Zürich", "ZH", "80##", 47.37, 8.54, "Europe/Zurich"),),
        streets=("Bahnhofstrasse", "Seefeldstrasse", "Limmatquai"),
        companies=("Zürcher Präzision", "Alpenglühn Uhren"),
        suffixes=("AG", "GmbH"),
    ),
)
REGION_TABLE = tuple((r, r.weight) for r in REGIONS)

ORG_NAMES = (
    OrgName("Nordwind Components Inc.", "nordwind-components.com"),
    OrgName("Brightline Software Inc.", "brightline.io"),
    OrgName("Halvorsen Marine Supply", "halvorsen-marine.com"),
    OrgName("Verdant Agritech", "verdant-agritech.com"),
)
AGENT_NAMES = ("Ava", "Leo", "Mia", "Sam")

WORKFLOW_NAMES = (
    "Overdue invoices – friendly reminder",
    "Pre-due courtesy calls",
    "60+ days past due – escalation",
    "Promise-to-pay follow-up",
    "Disputed invoices review",
    "Enterprise accounts outreach",
    "Día de cobro – clientes España",
    "Zahlungserinnerung DACH",
)
WORKFLOW_TZ = (
    "America/New_York", "America/Chicago", "Europe/Berlin", "America/Los_Angeles",
    "Europe/London", "Europe/Madrid", "Asia/Tokyo", "America/Toronto",
)  # fmt: skip

TAG_DEFS = (
    TagDef("Enterprise", "#1E88E5"),
    TagDef("Strategic", "#8E24AA"),
    TagDef("Slow payer", "#F4511E"),
    TagDef("Disputes often", "#E53935"),
    TagDef("Net 60", "#43A047"),
    TagDef("Priority", "#FDD835"),
    TagDef("Öffentlicher Sektor", "#00897B"),
    TagDef("Portal submission", "#6D4C41"),
)
JOB_TITLES = (
    "Accounts Payable Specialist", "AP Manager", "Controller", "Finance Director", "CFO",
    "Bookkeeper", "Office Manager", "Leiterin Buchhaltung", "Responsable comptable",
    "Jefe de Contabilidad", "経理部長",
)  # fmt: skip
EXTERNAL_ROLES = (("billing_contact", 6), ("accounts_payable", 4), ("decision_maker", 2))
INTERNAL_ROLES = (("account_manager", 3), ("collector", 3), ("sales_rep", 1))
AP_PROVIDERS = ("coupa", "ariba", "tungsten", "taulia", "basware", "jaggaer")
PRODUCTS = (
    Product("Annual platform subscription", "subscription", 1_200_000, 1),
    Product("Implementation services", "service", 18_000, 40),
    Product("Premium support plan", "subscription", 250_000, 1),
    Product("Hydraulic pump HX-200", "product", 84_900, 12),
    Product("Steel fasteners M8 (box of 500)", "product", 4_250, 60),
    Product("Freight and handling", "service", 35_000, 1),
    Product("Consulting hours", "service", 17_500, 24),
    Product("Replacement filters – Größe L", "product", 1_990, 200),
    Product("Cold-chain storage (pallet-month)", "service", 9_500, 30),
    Product("Training workshop (on site)", "service", 320_000, 1),
)
EMAIL_PROVIDERS = ("google", "microsoft", "smtp")
EMAIL_COUNTS = ((0, 55), (1, 35), (2, 10))
INTEGRATIONS = (
    IntegrationDef(
        "netsuite", "NetSuite", "https://{sub}.suitetalk.api.netsuite.com", True, "erp", "#1B3A5B"
    ),
    IntegrationDef(
        "quickbooks",
        "QuickBooks Online",
        "https://quickbooks.api.intuit.com",
        False,
        "accounting",
        "#2CA01C",
    ),
    IntegrationDef("xero", "Xero", "https://api.xero.com", False, "accounting", "#13B5EA"),
)
