Feature: Patients and orders that GipoNext sends meet the GipoNext profile
  Every patient and order GipoNext sends passes the validation engine, and a
  payload that breaks one rule is reported under that rule and no other.

  Rule: Patients

    @PAT-03 @PAT-04 @PAT-07 @PAT-08 @PAT-09 @SHALL @PAT-05 @PAT-06 @SHOULD
    Scenario: The patient GipoNext sends conforms to the GipoNext profile
      Given a patient the RIS-PACS has never seen
      When GipoNext sends the patient
      Then the patient GipoNext sent conforms to the GipoNext profile
      And the RIS-PACS accepts the conforming patient

    @negative
    Scenario Outline: A patient that breaks one rule is told apart and rejected
      Given a patient that breaks <rule>
      When GipoNext sends the patient
      Then the validation engine reports <rule> and no other error
      And the RIS-PACS rejects the patient under <rule>
      And the rejected patient is not stored

      @PAT-03 @SHALL
      Examples: no identifier under GipoNext's system
        | rule   |
        | PAT-03 |

      @PAT-04 @SHALL
      Examples: a codice fiscale that is too short
        | rule   |
        | PAT-04 |

      @PAT-07 @SHALL
      Examples: a birthplace whose ISTAT code does not exist
        | rule   |
        | PAT-07 |

      @PAT-08 @SHALL
      Examples: a postal code of four digits
        | rule   |
        | PAT-08 |

      @PAT-09 @SHALL
      Examples: no gender
        | rule   |
        | PAT-09 |

    @negative
    Scenario Outline: A patient with a doubtful detail is flagged and still accepted
      Given a patient that breaks <rule>
      When GipoNext sends the patient
      Then the validation engine reports <rule> and no other error
      And the RIS-PACS accepts the patient

      @PAT-05 @SHOULD
      Examples: a codice fiscale that disagrees with the birth date
        | rule   |
        | PAT-05 |

      @PAT-06 @SHOULD
      Examples: a RIS-PACS identifier without a value
        | rule   |
        | PAT-06 |

  Rule: Orders

    Background:
      Given the RIS-PACS knows the patient

    @PR-05 @PR-06 @PR-07 @PR-08 @PR-09 @PR-10 @PR-11 @PR-12 @SHALL
    Scenario: The order GipoNext sends conforms to the GipoNext profile
      Given a new order for the patient
      When GipoNext sends the order
      Then the order GipoNext sent conforms to the GipoNext profile
      And the RIS-PACS accepts the conforming order

    @negative
    Scenario Outline: An order that breaks one rule is told apart and rejected
      Given an order that breaks <rule>
      When GipoNext sends the order
      Then the validation engine reports <rule> and no other error
      And the RIS-PACS rejects the order under <rule>
      And the rejected order is not stored

      @PR-05 @SHALL
      Examples: a requisition under another system
        | rule  |
        | PR-05 |

      @PR-06 @SHALL
      Examples: a draft order
        | rule  |
        | PR-06 |

      @PR-07 @SHALL
      Examples: a category under another system
        | rule  |
        | PR-07 |

      @PR-08 @SHALL
      Examples: no procedure code of the RIS-PACS
        | rule  |
        | PR-08 |

      @PR-09 @SHALL
      Examples: a subject that is not a patient
        | rule  |
        | PR-09 |

      @PR-10 @SHALL
      Examples: an authoredOn date without a time
        | rule  |
        | PR-10 |

      @PR-11 @SHALL
      Examples: a prescription from a region that does not exist
        | rule  |
        | PR-11 |

      @PR-12 @SHALL
      Examples: a performer without a valid codice fiscale
        | rule  |
        | PR-12 |
