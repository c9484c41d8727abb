"""Invent the demo brand's customers: Thai names, contact details, identifiers and channels."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sampan.demo.catalog import BRANCHES

Channel = Literal["web", "app", "pos", "line"]
Gender = Literal["female", "male"]

CHANNELS: tuple[Channel, ...] = ("web", "app", "pos", "line")

# (Thai script, romanisation used in e-mail addresses)
FEMALE_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("สมหญิง", "somying"), ("สุดารัตน์", "sudarat"), ("กัญญา", "kanya"), ("วรรณา", "wanna"),
    ("นภา", "napa"), ("ปราณี", "pranee"), ("มาลี", "malee"), ("สุนิสา", "sunisa"),
    ("พรทิพย์", "pornthip"), ("จิราพร", "jiraporn"), ("ศิริพร", "siriporn"), ("อรุณี", "arunee"),
    ("ณัฐธิดา", "natthida"), ("กมลชนก", "kamonchanok"), ("ปิยะนุช", "piyanuch"),
    ("รัตนา", "rattana"), ("วิไลวรรณ", "wilaiwan"), ("สุภาพร", "supaporn"),
    ("อัญชลี", "anchalee"), ("ธิดารัตน์", "thidarat"), ("พิมพ์ชนก", "pimchanok"),
    ("ชนิดา", "chanida"), ("ณิชา", "nicha"), ("ปวีณา", "paweena"), ("ศศิธร", "sasithorn"),
    ("กาญจนา", "kanjana"), ("เบญจวรรณ", "benjawan"), ("นันทนา", "nantana"),
    ("อรทัย", "orathai"), ("วราภรณ์", "waraporn"), ("ภัทรา", "phattra"),
    ("ปภาวดี", "paphawadee"), ("เพ็ญศรี", "pensri"), ("ลลิตา", "lalita"), ("ธัญญา", "thanya"),
    ("สุกัญญา", "sukanya"), ("ชุติมา", "chutima"), ("จันทร์เพ็ญ", "janpen"),
    ("พัชรินทร์", "patcharin"), ("อารีรัตน์", "areerat"), ("ณัฐกานต์", "nattakan"),
    ("มณีรัตน์", "maneerat"),
)  # fmt: skip

MALE_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("สมชาย", "somchai"), ("สมศักดิ์", "somsak"), ("ประเสริฐ", "prasert"), ("วิชัย", "wichai"),
    ("สุรชัย", "surachai"), ("อนุชา", "anucha"), ("ธนากร", "thanakorn"), ("ณัฐพล", "nattapon"),
    ("กิตติพงษ์", "kittipong"), ("พงศกร", "pongsakorn"), ("ธีรวัฒน์", "theerawat"),
    ("อภิชาติ", "apichat"), ("ชัยวัฒน์", "chaiwat"), ("วีระพงษ์", "weerapong"),
    ("ศุภชัย", "supachai"), ("เอกชัย", "ekkachai"), ("ปิยะพงษ์", "piyapong"),
    ("นพดล", "noppadon"), ("สุทธิพงษ์", "sutthipong"), ("จักรพันธ์", "jakkapan"),
    ("ภาณุวัฒน์", "panuwat"), ("ธนพล", "thanaphon"), ("วรวุฒิ", "worawut"),
    ("ณัฐวุฒิ", "nattawut"), ("ศักดิ์ชัย", "sakchai"), ("บุญชัย", "boonchai"),
    ("สมบัติ", "sombat"), ("อำนาจ", "amnat"), ("ชาญวิทย์", "chanwit"),
    ("ธวัชชัย", "thawatchai"), ("กฤษดา", "kritsada"), ("ปกรณ์", "pakorn"), ("ภูมิ", "phum"),
    ("กันต์", "kan"), ("ธนวัฒน์", "thanawat"), ("พีรพล", "peerapon"), ("วชิระ", "wachira"),
    ("อรรถพล", "attapon"), ("สิทธิชัย", "sitthichai"),
)  # fmt: skip

SURNAMES: tuple[tuple[str, str], ...] = (
    ("ใจดี", "jaidee"), ("สุขสวัสดิ์", "suksawat"), ("ศรีสุข", "srisuk"),
    ("วงศ์สวัสดิ์", "wongsawat"), ("แสงทอง", "saengthong"), ("ทองดี", "thongdee"),
    ("บุญมา", "boonma"), ("สมบูรณ์", "somboon"), ("รัตนพันธ์", "rattanaphan"),
    ("พึ่งบุญ", "phuengboon"), ("จันทร์แก้ว", "chankaew"), ("แก้วมณี", "kaewmanee"),
    ("ศรีวงศ์", "sriwong"), ("ประเสริฐศักดิ์", "prasertsak"), ("สุวรรณ", "suwan"),
    ("ชัยมงคล", "chaimongkol"), ("มั่นคง", "mankong"), ("เจริญสุข", "charoensuk"),
    ("อินทร์แก้ว", "inkaew"), ("คงเจริญ", "kongcharoen"), ("พรหมมา", "promma"),
    ("สายทอง", "saithong"), ("ทองคำ", "thongkham"), ("บุญเรือง", "boonruang"),
    ("ศักดิ์สิทธิ์", "saksit"), ("นาคสวัสดิ์", "naksawat"), ("รุ่งเรือง", "rungruang"),
    ("วัฒนา", "wattana"), ("เพชรรัตน์", "petcharat"), ("กิตติศักดิ์", "kittisak"),
    ("จิตรดี", "jitdee"), ("ภักดี", "phakdee"), ("ศรีประเสริฐ", "sriprasert"),
    ("สิงห์ทอง", "singthong"), ("พูลสวัสดิ์", "poonsawat"), ("ปัญญาดี", "panyadee"),
    ("มีสุข", "meesuk"), ("อ่อนศรี", "onsri"), ("ชูชาติ", "chuchat"), ("ทรัพย์มาก", "sapmak"),
    ("หอมจันทร์", "homjan"), ("ลิ้มเจริญ", "limcharoen"), ("ตั้งจิตร", "tangjit"),
    ("แซ่ตั้ง", "saetang"), ("แซ่ลิ้ม", "saelim"), ("เลิศวิริยะ", "lertwiriya"),
    ("อุดมสุข", "udomsuk"), ("ศรีสวัสดิ์", "srisawat"), ("บุญประเสริฐ", "boonprasert"),
    ("นิลสุวรรณ", "ninsuwan"), ("เกษมสุข", "kasemsuk"), ("สมใจ", "somjai"),
    ("วิเศษสุข", "wisetsuk"), ("ธรรมสุข", "thammasuk"), ("กาญจนวงศ์", "kanjanawong"),
    ("พิทักษ์ไทย", "phithakthai"), ("ไชยวงศ์", "chaiwong"), ("บุญญาศิริ", "boonyasiri"),
    ("สุขเจริญ", "sukcharoen"), ("ทองประเสริฐ", "thongprasert"),
    ("อินทรสุวรรณ", "intarasuwan"), ("จันทร์หอม", "janhom"), ("ศรีอ่อน", "srion"),
    ("ปานทอง", "panthong"), ("ดวงดี", "duangdee"), ("มณีวงศ์", "maneewong"),
    ("เรืองศรี", "ruangsri"), ("คำแก้ว", "khamkaew"), ("ทองใบ", "thongbai"),
    ("บัวแก้ว", "buakaew"), ("สีดา", "sida"), ("กล้าหาญ", "klahan"), ("วงษ์ใหญ่", "wongyai"),
    ("รักไทย", "rakthai"), ("ศรีเมือง", "srimuang"), ("จันทร์ศรี", "jansri"),
    ("ยอดดี", "yoddee"), ("เพชรสุวรรณ", "petsuwan"), ("นาคประเสริฐ", "nakprasert"),
)  # fmt: skip

# Reserved example domains: demo data must never reach a real mailbox.
EMAIL_DOMAINS: tuple[str, ...] = (
    "example.co.th",
    "example.com",
    "mail.example.co.th",
    "example.net",
)
EMAIL_DOMAIN_WEIGHTS: tuple[int, ...] = (60, 22, 8, 10)

CITIES: tuple[str, ...] = (
    "Bangkok", "Nonthaburi", "Chiang Mai", "Khon Kaen", "Phuket", "Chonburi", "Hat Yai",
    "Nakhon Ratchasima",
)  # fmt: skip
CITY_WEIGHTS: tuple[int, ...] = (55, 8, 8, 6, 5, 7, 6, 5)

SKIN_TYPES: tuple[str, ...] = ("oily", "dry", "combination", "sensitive", "normal")

# Broadband and mobile ranges of Thai ISPs (True, AIS, 3BB, TOT/NT, dtac).
IP_PREFIXES: tuple[str, ...] = (
    "171.96", "171.97", "171.100", "49.228", "49.229", "49.237", "1.46", "1.47", "58.8", "58.11",
    "110.164", "124.120", "124.122", "27.55", "183.88", "223.24",
)  # fmt: skip

# Thai mobile ranges that libphonenumber (and so the server) accepts as valid.
MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"06{digit}" for digit in range(1, 7)),
    *(f"08{digit}" for digit in range(10)),
    *(f"09{digit}" for digit in range(10)),
)

# How one person's phone number gets written by different systems and forms.
PHONE_FORMS: tuple[str, ...] = ("dashed", "plain", "international", "e164", "spaced")


@dataclass(frozen=True)
class Device:
    """Describe the phone a customer runs the brand's app (and usually its web shop) on."""

    kind: Literal["ios", "android"]
    manufacturer: str
    model: str
    os_version: str


DEVICES: tuple[Device, ...] = (
    Device("ios", "Apple", "iPhone13,2", "17.5"),
    Device("ios", "Apple", "iPhone14,5", "17.6"),
    Device("ios", "Apple", "iPhone15,2", "18.1"),
    Device("ios", "Apple", "iPhone16,1", "18.2"),
    Device("android", "samsung", "SM-A546E", "14"),
    Device("android", "samsung", "SM-S911B", "14"),
    Device("android", "OPPO", "CPH2525", "13"),
    Device("android", "vivo", "V2250", "14"),
    Device("android", "Xiaomi", "23021RAA2Y", "13"),
    Device("android", "realme", "RMX3710", "14"),
)
DEVICE_WEIGHTS: tuple[int, ...] = (8, 10, 9, 6, 12, 7, 10, 9, 7, 5)

DESKTOP_USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
)


def mobile_user_agent(device: Device, *, line_app: bool = False) -> str:
    """Return the browser user agent of `device`, or of the LINE in-app browser on it."""
    line = " Line/14.10.0" if line_app else ""
    if device.kind == "ios":
        version = device.os_version.replace(".", "_")
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {version} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{device.os_version} Mobile/15E148 Safari/604.1{line}"
        )
    return (
        f"Mozilla/5.0 (Linux; Android {device.os_version}; {device.model}) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36{line}"
    )


@dataclass(frozen=True)
class Customer:
    """Describe one invented customer: who they are and where they meet the brand."""

    first_name: str
    last_name: str
    romanised_first_name: str
    email: str
    phone: str
    gender: Gender
    birthday: date
    locale: str
    city: str
    home_store_id: str
    skin_type: str
    channels: tuple[Channel, ...]
    member_id: str | None
    line_user_id: str | None
    loyalty_id: str | None
    pos_customer_id: str | None
    device: Device
    web_user_agent: str
    ip: str
    web_anonymous_id: str
    app_anonymous_id: str
    app_device_id: str
    browses_anonymously_first: bool
    new_email: str | None
    new_city: str | None


def write_phone(phone: str, form: str) -> str:
    """Return a Thai mobile number (0XXXXXXXXX) written in one of the PHONE_FORMS."""
    national = phone[1:]
    if form == "dashed":
        return f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"
    if form == "plain":
        return phone
    if form == "international":
        return f"+66 {national[:2]} {national[2:5]} {national[5:]}"
    if form == "e164":
        return f"+66{national}"
    if form == "spaced":
        return f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    raise ValueError(f"unknown phone form {form!r}: expected one of {', '.join(PHONE_FORMS)}")


class _Registry:
    """Hand out identifiers that no two demo customers share, so identities never collide."""

    def __init__(self, rng: random.Random, count: int) -> None:
        if count > 800_000:
            raise ValueError(
                f"at most 800,000 demo customers fit the M+6-digit member ids: {count}"
            )
        self._rng = rng
        self._member_numbers = iter(rng.sample(range(100_000, 1_000_000), count))
        self._pos_numbers = iter(rng.sample(range(1_000_000, 10_000_000), count))
        self._loyalty_numbers = iter(rng.sample(range(10_000_000, 100_000_000), count))
        self._phones: set[str] = set()
        self._emails: set[str] = set()

    def member_id(self) -> str:
        return f"M{next(self._member_numbers)}"

    def pos_customer_id(self, store_id: str) -> str:
        return f"{store_id}-{next(self._pos_numbers)}"

    def loyalty_id(self) -> str:
        return f"SPL{next(self._loyalty_numbers)}"

    def line_user_id(self) -> str:
        return f"U{self._rng.getrandbits(128):032x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def phone(self) -> str:
        while True:
            prefix = self._rng.choice(MOBILE_PREFIXES)
            number = f"{prefix}{self._rng.randrange(10_000_000):07d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def email(self, given: str, surname: str, birth_year: int) -> str:
        while True:
            local = self._rng.choice(
                (
                    f"{given}.{surname[0]}",
                    f"{given}.{surname}",
                    f"{given}_{surname[:4]}",
                    f"{given}{birth_year % 100:02d}",
                    f"{given}.{self._rng.randint(1, 999)}",
                )
            )
            domain = self._rng.choices(EMAIL_DOMAINS, EMAIL_DOMAIN_WEIGHTS)[0]
            address = f"{local}@{domain}"
            if address not in self._emails:
                self._emails.add(address)
                return address


def _pick_channels(rng: random.Random) -> tuple[Channel, ...]:
    """Return a home channel first, then the other channels this person also uses."""
    home: Channel = rng.choices(CHANNELS, (36, 24, 26, 14))[0]
    extra = rng.choices((0, 1, 2, 3), (44, 34, 16, 6))[0]
    others = [channel for channel in CHANNELS if channel != home]
    # LINE is the most common second channel in Thailand: most shoppers follow the brand's OA.
    weights = {"web": 3, "app": 2, "pos": 3, "line": 5}
    chosen: list[Channel] = [home]
    for _ in range(extra):
        pick = rng.choices(others, [weights[channel] for channel in others])[0]
        chosen.append(pick)
        others.remove(pick)
    return tuple(chosen)


def _birthday(rng: random.Random) -> date:
    start = date(1965, 1, 1).toordinal()
    end = date(2005, 12, 31).toordinal()
    # Skew towards 25-40 year olds, the core of a beauty retailer's members.
    ordinal = round(rng.triangular(start, end, date(1993, 6, 1).toordinal()))
    return date.fromordinal(ordinal)


def _home_store_id(rng: random.Random, city: str) -> str:
    local = [branch.store_id for branch in BRANCHES if branch.city == city]
    return rng.choice(local or [branch.store_id for branch in BRANCHES])


def generate_customers(rng: random.Random, count: int) -> list[Customer]:
    """Invent `count` customers whose identifiers are unique across the whole list."""
    registry = _Registry(rng, count)
    customers: list[Customer] = []
    for _ in range(count):
        gender: Gender = "female" if rng.random() < 0.72 else "male"
        names = FEMALE_GIVEN_NAMES if gender == "female" else MALE_GIVEN_NAMES
        first_name, romanised = rng.choice(names)
        last_name, romanised_surname = rng.choice(SURNAMES)
        birthday = _birthday(rng)
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
        home_store = _home_store_id(rng, city)
        channels = _pick_channels(rng)
        online = "web" in channels or "app" in channels
        # Everyone who shops online has an account; some branch and LINE shoppers never sign up.
        member = online or rng.random() < 0.6
        pos = "pos" in channels
        has_loyalty_card = member and rng.random() < (0.65 if pos else 0.25)
        email = registry.email(romanised, romanised_surname, birthday.year)
        new_email = (
            registry.email(romanised, romanised_surname, birthday.year)
            if online and rng.random() < 0.08
            else None
        )
        device = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
        web_user_agent = (
            rng.choice(DESKTOP_USER_AGENTS) if rng.random() < 0.35 else mobile_user_agent(device)
        )
        new_city = rng.choices(CITIES, CITY_WEIGHTS)[0] if member and rng.random() < 0.06 else None
        customers.append(
            Customer(
                first_name=first_name,
                last_name=last_name,
                romanised_first_name=romanised,
                email=email,
                phone=registry.phone(),
                gender=gender,
                birthday=birthday,
                locale="en-US" if rng.random() < 0.15 else "th-TH",
                city=city,
                home_store_id=home_store,
                skin_type=rng.choice(SKIN_TYPES),
                channels=channels,
                member_id=registry.member_id() if member else None,
                line_user_id=registry.line_user_id() if "line" in channels else None,
                loyalty_id=registry.loyalty_id() if has_loyalty_card else None,
                pos_customer_id=(registry.pos_customer_id(home_store) if pos else None),
                device=device,
                web_user_agent=web_user_agent,
                ip=f"{rng.choice(IP_PREFIXES)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                web_anonymous_id=registry.uuid(),
                app_anonymous_id=registry.uuid(),
                app_device_id=registry.uuid().upper(),
                browses_anonymously_first=online and rng.random() < 0.47,
                new_email=new_email,
                new_city=new_city if new_city != city else None,
            )
        )
    return customers
