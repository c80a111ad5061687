from giponext_conformance.catalogue import LEVELS, get_rule, load_rules


def test_catalogue_levels_known():
    rules = load_rules()
    assert len(rules) >= 50
    for rule in rules.values():
        assert rule.level in LEVELS, rule.id


def test_catalogue_unknown_id_names_known():
    try:
        get_rule("PAT-99")
    except KeyError as error:
        assert "PAT-01" in str(error)
    else:
        raise AssertionError("PAT-99 was accepted")
