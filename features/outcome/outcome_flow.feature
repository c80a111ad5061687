@outcome
Feature: Outcome flow
  After the intake, the RIS-PACS delivers the report of the order to
  GipoNext, which judges it against every DiagnosticReport rule. The flow is
  optional for a RIS-PACS and checked against a vendor's system on request.

  @FLOW-02 @SHALL
  Scenario: The RIS-PACS delivers a conformant report after the intake
    Given GipoNext has sent a new patient and order to the RIS-PACS
    When the RIS-PACS delivers the report of the order
    Then GipoNext receives a report for the order that meets every report rule

  @FLOW-02 @SHALL @negative
  Scenario: A report GipoNext rejects does not complete the outcome flow
    Given the bundled RIS-PACS names another patient in its reports
    And GipoNext has sent a new patient and order to the RIS-PACS
    When the RIS-PACS delivers the report of the order
    Then the outcome flow of the order is not complete

  @GAUTH-06 @SHOULD
  Scenario Outline: The RIS-PACS waits for Retry-After when GipoNext is busy
    Given GipoNext answers the first delivery of each report with <status> and the run's Retry-After
    And GipoNext has sent a new patient and order to the RIS-PACS
    When the RIS-PACS delivers the report of the order
    Then the RIS-PACS retried no sooner than Retry-After and delivered the report once

    Examples:
      | status |
      | 429    |
      | 503    |
