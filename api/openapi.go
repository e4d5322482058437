package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *server) openAPI(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{})
}
