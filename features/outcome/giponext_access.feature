@outcome @giponext-mock
Feature: Access to the GipoNext report endpoint
  GipoNext takes reports only with a valid credential, only for the tenant
  that credential belongs to, and only as FHIR JSON within its size limit.

  Background:
    Given GipoNext has sent an order for a patient
    And a conformant report for the order

  @GAUTH-01 @MOCK @negative
  Scenario: GipoNext asks for a credential when none is sent
    When the RIS-PACS sends the report to GipoNext without a credential
    Then GipoNext asks for a valid bearer credential
    And GipoNext has stored no report

  @GAUTH-01 @MOCK @negative
  Scenario: GipoNext refuses an unknown API key
    When the RIS-PACS sends the report to GipoNext with an unknown API key
    Then GipoNext reports the credential as invalid
    And GipoNext has stored no report

  @GAUTH-04 @MOCK @negative
  Scenario: GipoNext refuses a report sent under another tenant's userId
    When the RIS-PACS sends the report under another tenant's userId
    Then GipoNext refuses the other tenant's userId
    And GipoNext has stored no report

  @GAUTH-04 @MOCK @negative
  Scenario: GipoNext does not know a userId that no tenant has
    When the RIS-PACS sends the report under a userId no tenant has
    Then GipoNext reports the userId as unknown

  @TRN-02 @MOCK @negative
  Scenario: GipoNext rejects a report sent as plain JSON
    When the RIS-PACS sends the report to GipoNext as application/json
    Then GipoNext rejects the media type
    And GipoNext has stored no report

  @TRN-08 @MOCK @negative
  Scenario: GipoNext rejects a body over its size limit before reading it
    When the RIS-PACS sends GipoNext a body over its size limit
    Then GipoNext rejects the body as too large
    And GipoNext has stored no report
