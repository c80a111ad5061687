Feature: Malformed and invalid content
  The RIS-PACS rejects a body that is not well-formed JSON or not valid FHIR
  STU3 with a client error, never a server error, and stores nothing from it.

  Background:
    Given the RIS-PACS knows the patient

  @TRN-06 @SHALL @negative
  Scenario Outline: Malformed JSON is rejected and changes nothing
    When GipoNext sends the patient as <malformed JSON>
    Then the RIS-PACS rejects the request as invalid
    And the stored patient is unchanged

    Examples:
      | malformed JSON                     |
      | JSON with a syntax error           |
      | JSON with comments                 |
      | JSON with a trailing comma         |
      | a JSON array instead of an object  |
      | JSON with duplicate keys           |

  @TRN-07 @SHALL @negative
  Scenario: A resource of the wrong type is rejected and changes nothing
    When GipoNext sends an order to the patient's address
    Then the RIS-PACS rejects the request as invalid
    And the stored patient is unchanged

  @TRN-08 @MOCK @negative
  Scenario: A body over the size limit is rejected before it is read
    When GipoNext sends the patient with a body over the size limit
    Then the RIS-PACS rejects the request as too large
    And the stored patient is unchanged

  @TRN-09 @SHALL @negative
  Scenario Outline: A patient that is not valid FHIR STU3 is rejected
    When GipoNext sends the patient with <invalid content>
    Then the RIS-PACS rejects the request as invalid
    And the stored patient is unchanged

    Examples:
      | invalid content                  |
      | an empty family name             |
      | a null gender                    |
      | an element STU3 does not define  |
      | a birth date that is not a date  |
      | a gender outside its value set   |

  @TRN-09 @SHALL @negative
  Scenario: A patient that breaks GipoNext's profile is unprocessable
    When GipoNext sends the patient with a name without a family name
    Then the RIS-PACS rejects the request as unprocessable
    And the stored patient is unchanged
