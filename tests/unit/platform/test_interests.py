from helios.platform.interests import ranked


def test_strongest_first() -> None:
    assert ranked({"sports": 0.7, "technology": 0.95, "music": 0.1}) == [
        "technology", "sports", "music"]


def test_a_tie_goes_to_the_name_first_in_code_point_order() -> None:
    # Code points, not a locale: "Zebra" (Z is U+005A) comes before "apple" (U+0061).
    assert ranked({"b": 0.5, "apple": 0.5, "Zebra": 0.5, "c": 0.9}) == ["c", "Zebra", "apple",
                                                                        "b"]


def test_no_interests_no_names() -> None:
    assert ranked({}) == []
