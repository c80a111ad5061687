Feature: Authentication of GipoNext to the RIS-PACS
  GipoNext presents a bearer token (an API key is sent the same way); the
  RIS-PACS refuses anything else. Basic authentication is deprecated.

  Background:
    Given a patient the RIS-PACS has never seen

  @AUTH-01 @SHALL @negative
  Scenario: A request without credentials is refused
    When GipoNext sends the patient without credentials
    Then the RIS-PACS asks for authentication
    And the RIS-PACS has not stored the patient

  @AUTH-02 @SHALL
  Scenario Outline: The bearer token is accepted whatever the case of the scheme name
    When GipoNext sends the patient with its token under the scheme name "<scheme>"
    Then the RIS-PACS accepts the patient

    Examples:
      | scheme |
      | Bearer |
      | bearer |

  @AUTH-03 @SHALL @negative
  Scenario: A wrong token is refused with a Bearer challenge
    When GipoNext sends the patient with a wrong token
    Then the RIS-PACS asks for authentication
    And the challenge names the Bearer scheme
    And the RIS-PACS has not stored the patient

  @AUTH-04 @SHOULD
  Scenario: Deprecated Basic credentials still work where the RIS-PACS offers them
    Given the RIS-PACS accepts Basic authentication
    When GipoNext sends the patient with Basic credentials
    Then the RIS-PACS accepts the patient
