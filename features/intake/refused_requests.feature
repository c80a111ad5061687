Feature: Requests the RIS-PACS refuses during the intake
  A patient goes only to its own address, an order only with GipoNext's id
  and only after its patient, and the token only under the Bearer scheme.

  @AUTH-02 @SHALL @negative
  Scenario: GipoNext's token under a scheme other than Bearer is refused
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient with its token under the scheme name "Token"
    Then the RIS-PACS asks for authentication
    And the RIS-PACS has not stored the patient

  @PAT-01 @SHALL @negative
  Scenario: A patient sent without its id in the address is not created
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient without its id in the address
    Then the RIS-PACS refuses the request with a client error
    And the RIS-PACS has not stored the patient

  @FLOW-01 @SHALL @negative
  Scenario: An order sent before its patient is refused
    Given a patient the RIS-PACS has never seen
    And a new order for the patient
    When GipoNext sends the order before the patient
    Then the RIS-PACS refuses the request with a client error
    And the RIS-PACS has not stored the order

  Rule: Orders

    Background:
      Given the RIS-PACS knows the patient

    @PR-01 @SHALL @negative
    Scenario: An order posted to an order's own address is not created
      Given a new order for the patient
      When GipoNext posts the order to the order's own address
      Then the RIS-PACS refuses the request with a client error
      And the RIS-PACS has not stored the order

    @PR-02 @SHALL @negative
    Scenario: An order without GipoNext's id is refused
      Given a new order for the patient
      When GipoNext sends the order without its id
      Then the RIS-PACS refuses the request with a client error
      And the RIS-PACS has not stored the order
