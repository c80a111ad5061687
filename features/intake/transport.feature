Feature: Transport between GipoNext and the RIS-PACS
  Every exchange runs over HTTPS with a verified certificate and carries
  FHIR JSON, labelled as such in both directions.

  @TRN-01 @SHALL
  Scenario: The RIS-PACS is reached over HTTPS with a trusted certificate
    Given GipoNext is configured with the RIS-PACS address
    When GipoNext connects to the RIS-PACS
    Then the connection is HTTPS with a certificate GipoNext trusts

  @TRN-02 @SHALL
  Scenario Outline: A body labelled as FHIR JSON is accepted
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient labelled as "<media type>"
    Then the RIS-PACS accepts the patient

    Examples:
      | media type                            |
      | application/fhir+json                 |
      | application/fhir+json; charset=utf-8  |

  @TRN-03 @SHOULD @negative
  Scenario Outline: A body labelled with another media type is rejected
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient labelled as "<media type>"
    Then the RIS-PACS rejects the media type
    And the RIS-PACS has not stored the patient

    Examples:
      | media type       |
      | application/json |
      | text/plain       |

  @TRN-04 @SHOULD
  Scenario: An accepted patient comes back labelled as FHIR JSON
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient
    Then the answer is labelled as FHIR JSON

  @TRN-04 @TRN-05 @SHOULD @negative
  Scenario: A rejected request is explained with an OperationOutcome
    Given the RIS-PACS knows the patient
    When GipoNext sends an order to the patient's address
    Then the answer is labelled as FHIR JSON
    And the answer explains the error with an OperationOutcome
