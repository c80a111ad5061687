@giponext-mock
Feature: OAuth 2.0 flows of GipoNext's authorization server
  A RIS-PACS obtains its token by the authorization-code flow with PKCE or
  by the device flow; either way a person signs in and grants each scope.
  Refresh tokens rotate, and the client-credentials grant is not offered.

  Background:
    Given a GipoNext endpoint with its authorization server

  @GAUTH-02 @MOCK
  Scenario: The authorization-code flow with PKCE issues the granted scopes
    When a user signs in, grants every scope and the client redeems the code
    Then GipoNext issues a token with the scopes "reports profile"

  @GAUTH-02 @MOCK @negative
  Scenario: An authorization request without PKCE is refused
    When the client asks for authorization without a PKCE challenge
    Then GipoNext refuses the authorization request as invalid

  @GAUTH-02 @MOCK
  Scenario: The device flow issues a token once the user approves
    When the user approves the device on the verification page
    Then GipoNext issues a token with the scopes "reports"

  @GAUTH-02 @MOCK @negative
  Scenario: The device flow issues no token when the user refuses
    When the user refuses the device on the verification page
    Then GipoNext answers the token request with "access_denied"

  @GAUTH-02 @MOCK @negative
  Scenario: The client-credentials grant is not supported
    When a client asks for a token with the client-credentials grant
    Then GipoNext answers the token request with "unsupported_grant_type"

  @GAUTH-02 @MOCK @negative
  Scenario: A reused refresh token is refused and revokes its family
    Given the RIS-PACS holds a token granted with the reports scope
    When the RIS-PACS refreshes its token and presents the old refresh token again
    Then GipoNext answers the token request with "invalid_grant"
    And the token issued by the refresh is revoked as well
