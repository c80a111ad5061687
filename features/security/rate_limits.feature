@giponext-mock
Feature: Rate limits on GipoNext
  GipoNext counts requests per OAuth client or API key in a sliding window
  and answers the excess with 429 and the seconds to wait.

  Background:
    Given a GipoNext endpoint that allows 60 requests per minute for each client

  @GAUTH-05 @MOCK
  Scenario: Requests within the limit are answered
    When the RIS-PACS sends 60 requests within the minute
    Then GipoNext answers every request

  @GAUTH-05 @MOCK @negative
  Scenario: The request over the limit gets 429 with Retry-After
    When the RIS-PACS sends 61 requests within the minute
    Then the last request gets 429 with Retry-After and a JSON error
    And the audit journal records the refused request

  @GAUTH-05 @MOCK
  Scenario: Another client keeps its own window
    When the RIS-PACS sends 61 requests within the minute
    And another client sends one request
    Then GipoNext accepts the credential

  @GAUTH-05 @MOCK @negative
  Scenario: The token endpoint is limited too
    When a client calls the token endpoint 61 times within the minute
    Then the last request gets 429 with Retry-After and a JSON error
