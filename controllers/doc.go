// Package controllers holds Capstan's controllers, one level-driven
// controller per folder, started by the manager in controllers/manager.
package controllers
