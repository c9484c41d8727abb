"""Hold the demo brand's constant data: its product catalogue, branches and web pages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """Describe one product the demo brand sells, priced in Thai baht."""

    product_id: str
    sku: str
    name_th: str
    name_en: str
    category: str
    price: int


@dataclass(frozen=True)
class Category:
    """Describe one product category with its Thai and English labels."""

    slug: str
    name_th: str
    name_en: str


@dataclass(frozen=True)
class Branch:
    """Describe one physical branch whose POS sends events."""

    store_id: str
    name: str
    city: str


@dataclass(frozen=True)
class WebPage:
    """Describe one content page of the web shop, with its Thai and English titles."""

    path: str
    title_th: str
    title_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("serum", "เซรั่มและบำรุงผิวหน้า", "Serums & Treatments"),
    Category("cleanser", "ทำความสะอาดผิวหน้า", "Cleansers"),
    Category("sunscreen", "กันแดด", "Sun Care"),
    Category("makeup", "เมคอัพ", "Makeup"),
    Category("haircare", "ดูแลเส้นผม", "Hair Care"),
    Category("body-care", "ดูแลผิวกาย", "Body Care"),
    Category("supplements", "อาหารเสริม", "Supplements"),
)


def _product(number: int, category: str, name_th: str, name_en: str, price: int) -> Product:
    code = category[:3].upper()
    return Product(
        product_id=f"P{number:04d}",
        sku=f"SP-{code}-{number:04d}",
        name_th=name_th,
        name_en=name_en,
        category=category,
        price=price,
    )


PRODUCTS: tuple[Product, ...] = (
    _product(1, "serum", "เซรั่มวิตามินซี 15% 30 มล.", "Vitamin C 15% Serum 30 ml", 890),
    _product(2, "serum", "เซรั่มไฮยาลูรอน 3 โมเลกุล 30 มล.", "Triple Hyaluronic Serum 30 ml", 690),
    _product(3, "serum", "เซรั่มไนอาซินาไมด์ 10% 30 มล.", "Niacinamide 10% Serum 30 ml", 590),
    _product(4, "serum", "เรตินอล ไนท์ เซรั่ม 0.3%", "Retinol Night Serum 0.3%", 1290),
    _product(5, "serum", "แอมพูลใบบัวบก 50 มล.", "Centella Ampoule 50 ml", 750),
    _product(6, "serum", "มอยส์เจอไรเซอร์เจลแตงกวา 50 กรัม", "Cucumber Gel Moisturiser 50 g", 459),
    _product(7, "serum", "ครีมบำรุงรอบดวงตาเปปไทด์", "Peptide Eye Cream 15 ml", 1090),
    _product(8, "serum", "สลีปปิ้งมาสก์ข้าวหอมมะลิ", "Jasmine Rice Sleeping Mask 80 ml", 650),
    _product(9, "serum", "เอสเซนส์น้ำตบหมักยีสต์ 150 มล.", "Fermented Yeast Essence 150 ml", 1590),
    _product(10, "serum", "ครีมบำรุงต่อต้านริ้วรอย 50 มล.", "Age Defence Cream 50 ml", 2590),
    _product(11, "cleanser", "โฟมล้างหน้ากรดอะมิโน 150 มล.", "Amino Acid Foam Cleanser 150 ml", 329),
    _product(12, "cleanser", "เจลล้างหน้าสำหรับผิวแพ้ง่าย", "Gentle Gel Cleanser 200 ml", 359),
    _product(13, "cleanser", "คลีนซิ่งวอเตอร์ไมเซล่า 400 มล.", "Micellar Cleansing Water 400 ml", 299),
    _product(14, "cleanser", "คลีนซิ่งออยล์รำข้าว 200 มล.", "Rice Bran Cleansing Oil 200 ml", 489),
    _product(15, "cleanser", "โทนเนอร์ชาเขียวลดความมัน", "Green Tea Balancing Toner 200 ml", 390),
    _product(16, "cleanser", "โคลนพอกหน้าทานาคา", "Thanaka Clay Mask 100 g", 420),
    _product(17, "cleanser", "สครับหน้ามะขามอ่อนโยน", "Tamarind Gentle Face Scrub 100 g", 259),
    _product(18, "cleanser", "แผ่นเช็ดทำความสะอาดผิว 60 แผ่น", "Exfoliating Toner Pads 60 pcs", 549),
    _product(19, "sunscreen", "กันแดดเนื้อน้ำนม SPF50+ PA++++", "Sun Milk SPF50+ PA++++ 50 ml", 590),
    _product(20, "sunscreen", "กันแดดเจลบางเบา SPF50", "Aqua Sun Gel SPF50 50 ml", 490),
    _product(21, "sunscreen", "กันแดดผสมรองพื้น SPF50 สีเนื้อ", "Tinted Sunscreen SPF50 40 ml", 650),
    _product(22, "sunscreen", "สเปรย์กันแดด SPF50 150 มล.", "Sun Spray SPF50 150 ml", 450),
    _product(23, "sunscreen", "กันแดดสำหรับผิวกาย SPF30", "Body Sun Lotion SPF30 200 ml", 399),
    _product(24, "sunscreen", "กันแดดแท่ง SPF50 พกพา", "Sun Stick SPF50 20 g", 420),
    _product(25, "sunscreen", "เจลว่านหางจระเข้หลังออกแดด", "After-Sun Aloe Gel 200 ml", 199),
    _product(26, "makeup", "คุชชั่นคุมมัน SPF50", "Matte Cushion SPF50", 890),
    _product(27, "makeup", "ลิปแมทเนื้อกำมะหยี่ สีอิฐ", "Velvet Matte Lip, Brick", 359),
    _product(28, "makeup", "ลิปทินท์ฉ่ำวาว สีพีช", "Glow Lip Tint, Peach", 299),
    _product(29, "makeup", "มาสคาร่ากันน้ำ ขนตางอน", "Waterproof Curl Mascara", 390),
    _product(30, "makeup", "อายไลเนอร์หัวพู่กัน สีดำ", "Brush Tip Eyeliner, Black", 259),
    _product(31, "makeup", "คอนซีลเลอร์ปกปิดขั้นสุด", "Full Cover Concealer", 420),
    _product(32, "makeup", "แป้งฝุ่นคุมมันโปร่งแสง", "Translucent Setting Powder", 490),
    _product(33, "makeup", "พาเลทอายแชโดว์ 9 สี", "Eyeshadow Palette, 9 Shades", 790),
    _product(34, "makeup", "บลัชออนเนื้อครีม สีกุหลาบ", "Cream Blush, Rose", 329),
    _product(35, "makeup", "สเปรย์ล็อคเมคอัพ 100 มล.", "Makeup Setting Spray 100 ml", 450),
    _product(36, "haircare", "แชมพูมะกรูดลดผมร่วง 300 มล.", "Kaffir Lime Anti Hair-Fall Shampoo", 289),
    _product(37, "haircare", "ครีมนวดผมอัญชัน 300 มล.", "Butterfly Pea Conditioner 300 ml", 289),
    _product(38, "haircare", "ทรีทเมนต์เคราติน 200 มล.", "Keratin Hair Treatment 200 ml", 459),
    _product(39, "haircare", "เซรั่มบำรุงปลายผมแห้งเสีย", "Split End Hair Serum 50 ml", 359),
    _product(40, "haircare", "โทนิคบำรุงหนังศีรษะ", "Scalp Tonic 100 ml", 690),
    _product(41, "haircare", "แชมพูสำหรับผมทำสี 300 มล.", "Colour Care Shampoo 300 ml", 329),
    _product(42, "haircare", "มาสก์ผมน้ำมันมะพร้าว", "Coconut Oil Hair Mask 250 g", 390),
    _product(43, "body-care", "โลชั่นบำรุงผิวกายนมแพะ 400 มล.", "Goat Milk Body Lotion 400 ml", 259),
    _product(44, "body-care", "เจลอาบน้ำตะไคร้ 500 มล.", "Lemongrass Shower Gel 500 ml", 229),
    _product(45, "body-care", "สครับผิวกายกาแฟ 250 กรัม", "Coffee Body Scrub 250 g", 349),
    _product(46, "body-care", "ครีมทามือกลิ่นมะลิ 50 มล.", "Jasmine Hand Cream 50 ml", 159),
    _product(47, "body-care", "ออยล์บำรุงผิวกายมะพร้าว", "Coconut Body Oil 100 ml", 490),
    _product(48, "body-care", "โรลออนระงับกลิ่นกาย", "Deodorant Roll-On 50 ml", 169),
    _product(49, "body-care", "บอดี้เซรั่มวิตามินซีผิวกระจ่างใส", "Brightening Body Serum 250 ml", 399),
    _product(50, "body-care", "สบู่สมุนไพรไทย 3 ก้อน", "Thai Herbal Soap, 3 Bars", 189),
    _product(51, "body-care", "ครีมทาส้นเท้าแตก", "Cracked Heel Cream 50 g", 199),
    _product(52, "supplements", "คอลลาเจนไดเปปไทด์ 30 ซอง", "Collagen Dipeptide, 30 Sachets", 1290),
    _product(53, "supplements", "วิตามินซี 1000 มก. 60 เม็ด", "Vitamin C 1000 mg, 60 Tablets", 450),
    _product(54, "supplements", "กลูต้าไธโอนผสมวิตามินซี", "Glutathione with Vitamin C, 30 Caps", 990),
    _product(55, "supplements", "ไบโอตินบำรุงผมและเล็บ", "Biotin Hair & Nail, 60 Caps", 690),
    _product(56, "supplements", "โพรไบโอติกส์ 10 สายพันธุ์", "Probiotic 10 Strains, 30 Caps", 890),
    _product(57, "supplements", "น้ำมันปลาโอเมก้า 3", "Omega-3 Fish Oil, 60 Caps", 590),
    _product(58, "supplements", "ขมิ้นชันสกัด 60 แคปซูล", "Turmeric Extract, 60 Caps", 390),
    _product(59, "supplements", "เวย์โปรตีนจากพืช รสชาไทย", "Plant Protein, Thai Tea Flavour", 1590),
    _product(60, "supplements", "ซิงค์และวิตามินดี 3", "Zinc & Vitamin D3, 60 Tablets", 350),
)

BRANCHES: tuple[Branch, ...] = (
    Branch("BKK01", "สัมพันธ์ สยามพารากอน", "Bangkok"),
    Branch("BKK02", "สัมพันธ์ เซ็นทรัลเวิลด์", "Bangkok"),
    Branch("BKK03", "สัมพันธ์ เอ็มควอเทียร์", "Bangkok"),
    Branch("BKK04", "สัมพันธ์ เซ็นทรัล ลาดพร้าว", "Bangkok"),
    Branch("BKK05", "สัมพันธ์ ไอคอนสยาม", "Bangkok"),
    Branch("NBI01", "สัมพันธ์ เซ็นทรัล เวสต์เกต", "Nonthaburi"),
    Branch("CNX01", "สัมพันธ์ เมญ่า เชียงใหม่", "Chiang Mai"),
    Branch("KKC01", "สัมพันธ์ เซ็นทรัล ขอนแก่น", "Khon Kaen"),
    Branch("HKT01", "สัมพันธ์ จังซีลอน ภูเก็ต", "Phuket"),
    Branch("CBI01", "สัมพันธ์ เซ็นทรัล ชลบุรี", "Chonburi"),
    Branch("HDY01", "สัมพันธ์ เซ็นทรัล หาดใหญ่", "Hat Yai"),
    Branch("NMA01", "สัมพันธ์ เทอร์มินอล 21 โคราช", "Nakhon Ratchasima"),
)

WEB_PAGES: tuple[WebPage, ...] = (
    WebPage("/", "สัมพันธ์ บิวตี้ | ช้อปสกินแคร์และเครื่องสำอางออนไลน์", "Sampan Beauty | Shop Online"),
    WebPage("/promotions", "โปรโมชั่นประจำเดือน ลดสูงสุด 50%", "Monthly Promotions, Up to 50% Off"),
    WebPage("/new-arrivals", "สินค้าใหม่ล่าสุด", "New Arrivals"),
    WebPage("/best-sellers", "สินค้าขายดี", "Best Sellers"),
    WebPage("/stores", "ค้นหาสาขาใกล้คุณ", "Find a Store"),
    WebPage("/membership", "สมัครสมาชิกรับสิทธิพิเศษ", "Membership Benefits"),
    WebPage("/blog/skincare-routine", "วิธีดูแลผิวหน้าให้เหมาะกับผิวคุณ", "Find Your Skincare Routine"),
    WebPage("/blog/sunscreen-guide", "เลือกกันแดดอย่างไรให้เหมาะกับอากาศเมืองไทย", "Sunscreen Guide"),
)

CART_PAGE = WebPage("/cart", "ตะกร้าสินค้า", "Shopping Cart")
CHECKOUT_PAGE = WebPage("/checkout", "ชำระเงิน", "Checkout")
ACCOUNT_PAGE = WebPage("/account", "บัญชีของฉัน", "My Account")

SITE_URL = "https://shop.sampan-beauty.example"
LINE_OA_ID = "@sampanbeauty"


def products_in(category: str) -> tuple[Product, ...]:
    """Return the products of one category, in catalogue order."""
    return tuple(product for product in PRODUCTS if product.category == category)
