"""warehouse.domain.units: >= 150 size strings as real shops write them -> quantity, unit, pack count."""

from decimal import Decimal

import pytest

from warehouse.domain.units import PackSize, parse_pack_size, to_base

FOUR = Decimal("0.0001")

# (size text, total quantity in the base unit, base unit, pack count); None: no readable size
SIZES = [
    # metric, single
    ("500g", "0.5", "kg", 1),
    ("500 g", "0.5", "kg", 1),
    ("500 G", "0.5", "kg", 1),
    ("500 grams", "0.5", "kg", 1),
    ("500 gram", "0.5", "kg", 1),
    ("500 Gramm", "0.5", "kg", 1),
    ("500 grammes", "0.5", "kg", 1),
    ("500gm", "0.5", "kg", 1),
    ("500 gr", "0.5", "kg", 1),
    ("250 grs", "0.25", "kg", 1),
    ("1kg", "1", "kg", 1),
    ("1 KG", "1", "kg", 1),
    ("1.5kg", "1.5", "kg", 1),
    ("1,5 kg", "1.5", "kg", 1),
    ("5 kilo", "5", "kg", 1),
    ("2 kilos", "2", "kg", 1),
    ("1 kilogram", "1", "kg", 1),
    ("2.5 kilograms", "2.5", "kg", 1),
    ("1 Kilogramm", "1", "kg", 1),
    ("750 mg", "0.00075", "kg", 1),
    ("100 milligrams", "0.0001", "kg", 1),
    ("1,000 g", "1", "kg", 1),
    ("1L", "1", "l", 1),
    ("1 l", "1", "l", 1),
    ("1 Ltr", "1", "l", 1),
    ("2 lt", "2", "l", 1),
    ("1 litre", "1", "l", 1),
    ("2 litres", "2", "l", 1),
    ("1 liter", "1", "l", 1),
    ("1.5 liters", "1.5", "l", 1),
    ("0,5 l", "0.5", "l", 1),
    ("0.75l", "0.75", "l", 1),
    ("330ml", "0.33", "l", 1),
    ("330 mL", "0.33", "l", 1),
    ("330 ML", "0.33", "l", 1),
    ("250 millilitres", "0.25", "l", 1),
    ("250 milliliters", "0.25", "l", 1),
    ("75cl", "0.75", "l", 1),
    ("70 cl", "0.7", "l", 1),
    ("5 dl", "0.5", "l", 1),
    ("1 litro", "1", "l", 1),
    # imperial / US customary
    ("12 oz", "0.3402", "kg", 1),
    ("16oz", "0.4536", "kg", 1),
    ("8 ounces", "0.2268", "kg", 1),
    ("1 lb", "0.4536", "kg", 1),
    ("2 lbs", "0.9072", "kg", 1),
    ("5 pounds", "2.2680", "kg", 1),
    ("1.5 lb", "0.6804", "kg", 1),
    ("12 fl oz", "0.3549", "l", 1),
    ("12 fl. oz.", "0.3549", "l", 1),
    ("12floz", "0.3549", "l", 1),
    ("16.9 fl oz", "0.4998", "l", 1),
    ("64 fluid ounces", "1.8927", "l", 1),
    ("1 gal", "3.7854", "l", 1),
    ("1 gallon", "3.7854", "l", 1),
    ("0.5 gallon", "1.8927", "l", 1),
    ("1 pint", "0.4732", "l", 1),
    ("2 pints", "0.9464", "l", 1),
    ("1 pt", "0.4732", "l", 1),
    ("1 quart", "0.9464", "l", 1),
    ("1 qt", "0.9464", "l", 1),
    # multipacks: count first
    ("4pk x 250ml", "1", "l", 4),
    ("4 x 250ml", "1", "l", 4),
    ("4x250ml", "1", "l", 4),
    ("4 X 250 ML", "1", "l", 4),
    ("4 × 250 ml", "1", "l", 4),
    ("6 x 330ml", "1.98", "l", 6),
    ("6 x 375mL", "2.25", "l", 6),
    ("24 x 330ml", "7.92", "l", 24),
    ("10 x 25g", "0.25", "kg", 10),
    ("3 x 100g", "0.3", "kg", 3),
    ("6 pack x 330ml", "1.98", "l", 6),
    ("2x1L", "2", "l", 2),
    ("8 x 1.5 l", "12", "l", 8),
    ("6 x 0,5 l", "3", "l", 6),
    ("4 * 125g", "0.5", "kg", 4),
    ("12 x 12 fl oz", "4.2586", "l", 12),
    ("6 x 16.9 fl oz", "2.9988", "l", 6),
    ("4 x 4 oz", "0.4536", "kg", 4),
    # packs of packs
    ("2 x 6 x 330ml", "3.96", "l", 12),
    ("4 x 6 x 250ml", "6", "l", 24),
    ("2x6x330ml", "3.96", "l", 12),
    ("3 x 4 x 125 g", "1.5", "kg", 12),
    # multipacks: measure first
    ("375ml x 6", "2.25", "l", 6),
    ("330ml x 24", "7.92", "l", 24),
    ("250 ml x 4", "1", "l", 4),
    ("100g x 3", "0.3", "kg", 3),
    ("1L x 6", "6", "l", 6),
    ("12 fl oz x 12", "4.2586", "l", 12),
    ("330ml 6 pack", "1.98", "l", 6),
    ("330ml 6pk", "1.98", "l", 6),
    ("250ml, 4pk", "1", "l", 4),
    ("500 g (2 pack)", "1", "kg", 2),
    ("125g 4 pack", "0.5", "kg", 4),
    ("330 ml - 12 pack", "3.96", "l", 12),
    # pack words first
    ("6 pack 330ml", "1.98", "l", 6),
    ("12pk 355ml cans", "4.26", "l", 12),
    ("12 pack 12 fl oz", "4.2586", "l", 12),
    ("pack of 4 100g", "0.4", "kg", 4),
    ("Pack of 4 x 100g", "0.4", "kg", 4),
    ("6er Pack 0,5 l", "3", "l", 6),
    ("4 pack, 250ml", "1", "l", 4),
    ("8pk 375mL", "3", "l", 8),
    # counts
    ("Pack of 6", "6", "each", 6),
    ("pack of 12", "12", "each", 12),
    ("12pk", "12", "each", 12),
    ("6 pack", "6", "each", 6),
    ("4pk", "4", "each", 4),
    ("24 pack", "24", "each", 24),
    ("10 Pack", "10", "each", 10),
    ("100 Stück", "100", "each", 1),
    ("10 Stk", "10", "each", 1),
    ("10 stk.", "10", "each", 1),
    ("6 St", "6", "each", 1),
    ("30 tablets", "30", "each", 1),
    ("60 Tabletten", None, None, None),
    ("30 tabs", "30", "each", 1),
    ("60 capsules", "60", "each", 1),
    ("200 sheets", "200", "each", 1),
    ("9 rolls", "9", "each", 1),
    ("12 eggs", "12", "each", 1),
    ("10 Eier", "10", "each", 1),
    ("20 bags", "20", "each", 1),
    ("40 Beutel", "40", "each", 1),
    ("10 sachets", "10", "each", 1),
    ("24 pods", "24", "each", 1),
    ("80 wipes", "80", "each", 1),
    ("6 pieces", "6", "each", 1),
    ("6 pcs", "6", "each", 1),
    ("3 pc", "3", "each", 1),
    ("5 count", "5", "each", 1),
    ("5 ct", "5", "each", 1),
    ("10 slices", "10", "each", 1),
    ("6 bars", "6", "each", 1),
    ("4 cans", "4", "each", 1),
    ("3 x 10 tablets", "30", "each", 3),
    ("2 x 100 Stück", "200", "each", 2),
    ("6 x 4 rolls", "24", "each", 6),
    ("dozen", "12", "each", 1),
    ("1 dozen", "12", "each", 1),
    ("half dozen", "6", "each", 1),
    ("Half a dozen", "6", "each", 1),
    ("each", "1", "each", 1),
    ("ea", "1", "each", 1),
    ("1", "1", "each", 1),
    ("single", "1", "each", 1),
    ("Stück", "1", "each", 1),
    ("per each", "1", "each", 1),
    # priced by weight / volume
    ("per kg", "1", "kg", 1),
    ("Per KG", "1", "kg", 1),
    ("/kg", "1", "kg", 1),
    ("per 100g", "0.1", "kg", 1),
    ("per litre", "1", "l", 1),
    ("per lb", "0.4536", "kg", 1),
    ("je kg", "1", "kg", 1),
    # sizes inside product titles
    ("Full Cream Milk 2L", "2", "l", 1),
    ("Oat Drink Barista - 1 L", "1", "l", 1),
    ("Coca-Cola Classic 24 x 375mL", "9", "l", 24),
    ("Greek Yoghurt 4 x 125g", "0.5", "kg", 4),
    ("Sparkling Water 12pk x 355ml", "4.26", "l", 12),
    ("Heinz Baked Beans 415g", "0.415", "kg", 1),
    ("Bio Vollmilch 3,8 % 1 l", "1", "l", 1),
    ("Café moulu pur arabica - 250 g", "0.25", "kg", 1),
    ("Toilet Tissue 9 rolls", "9", "each", 1),
    ("Free Range Eggs 700g", "0.7", "kg", 1),
    ("Pepsi Max 6 x 1.25L", "7.5", "l", 6),
    ("Chips 175 g", "0.175", "kg", 1),
    ("Ice Cream 2 pints", "0.9464", "l", 2 // 2),
    ("Orange Juice 1 gal", "3.7854", "l", 1),
    ("Haribo 10 x 16g", "0.16", "kg", 10),
    ("Dishwasher 30 tablets", "30", "each", 1),
    ("Paper Towels 6 x 2 rolls", "12", "each", 6),
    ("Rice 5 kilo", "5", "kg", 1),
    ("Flour 1.5kg", "1.5", "kg", 1),
    ("Beer 4pk x 440ml", "1.76", "l", 4),
    ("Wine 75cl", "0.75", "l", 1),
    ("Butter 250 g", "0.25", "kg", 1),
    ("Tea 100 bags", "100", "each", 1),
    ("Steak per kg", "1", "kg", 1),
    ("465 ml", "0.465", "l", 1),
    ("400 gram", "0.4", "kg", 1),
    # nothing to read
    ("", None, None, None),
    ("large", None, None, None),
    ("family size", None, None, None),
    ("assorted", None, None, None),
    ("0g", None, None, None),
    ("0 x 330ml", None, None, None),
    ("n/a", None, None, None),
    ("see pack", None, None, None),
]


def test_the_table_is_large_enough():
    assert len(SIZES) >= 150


@pytest.mark.parametrize(("text", "quantity", "unit", "count"), SIZES)
def test_size_strings(text, quantity, unit, count):
    parsed = parse_pack_size(text)
    if quantity is None:
        assert parsed is None
        return
    assert parsed is not None, text
    assert (parsed.quantity.quantize(FOUR), parsed.unit, parsed.pack_count) == (
        Decimal(quantity).quantize(FOUR),
        unit,
        count,
    )


def test_imperial_volumes_for_uk_shops():
    assert parse_pack_size("1 pint", imperial=True).quantity.quantize(FOUR) == Decimal("0.5683")
    assert parse_pack_size("1 gal", imperial=True).quantity.quantize(FOUR) == Decimal("4.5461")
    assert parse_pack_size("500g", imperial=True) == PackSize(Decimal("0.5"), "kg", 1)


def test_conversion_is_pint_not_a_table():
    assert to_base(Decimal(1), "lb") == (Decimal("0.45359237"), "kg")
    assert to_base(Decimal(1), "furlong") is None


@pytest.mark.parametrize("value", [None, 12, ["500g"], "   "])
def test_non_text_gives_none(value):
    assert parse_pack_size(value) is None
