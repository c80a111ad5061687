@giponext-mock
Feature: OAuth 2.0 access tokens on GipoNext
  GipoNext takes an OAuth 2.0 access token wherever it takes an API key. A
  token carries only the scopes its user granted and acts only for that
  user's tenant.

  Background:
    Given a GipoNext endpoint with its authorization server

  @GAUTH-01 @SHALL
  Scenario: A report request with a live access token is accepted
    Given the RIS-PACS holds a token granted with the reports scope
    When the RIS-PACS reads a report of its own tenant
    Then GipoNext accepts the credential

  @GAUTH-01 @SHALL @negative
  Scenario: A report request with a revoked access token is refused
    Given the RIS-PACS holds a token granted with the reports scope
    And the RIS-PACS has revoked its token
    When the RIS-PACS reads a report of its own tenant
    Then GipoNext refuses the credential as invalid

  @GAUTH-03 @SHALL
  Scenario: A token with the reports scope may handle reports
    Given the RIS-PACS holds a token whose user granted only "reports"
    When the RIS-PACS reads a report of its own tenant
    Then GipoNext accepts the credential

  @GAUTH-03 @SHALL @negative
  Scenario: A token whose user refused the reports scope gets 403
    Given the RIS-PACS holds a token whose user granted only "profile"
    When the RIS-PACS reads a report of its own tenant
    Then GipoNext refuses the token for its missing scope

  @GAUTH-04 @SHALL
  Scenario: A token acts for the tenant of the user who approved it
    Given the RIS-PACS holds a token granted with the reports scope
    When the RIS-PACS reads a report of its own tenant
    Then GipoNext accepts the credential

  @GAUTH-04 @SHALL @negative
  Scenario: A token is refused under another tenant's userId
    Given the RIS-PACS holds a token granted with the reports scope
    When the RIS-PACS reads a report of another tenant
    Then GipoNext refuses the token for another tenant
